"""The export contract (``spec/exports.md``) as the generator sees it.

The generator keeps its own copy of the canonical columns instead of importing the
ingestion package's contract: it is the independent oracle that ingestion is tested
against, so a mistake in one must not silently repeat in the other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Col:
    """One canonical column: its name, logical type and the Japanese header alias."""

    name: str
    type: str  # text, int, money, number, date, timestamp, bool, enum
    ja: str = ""
    values: tuple[str, ...] = ()


def _cols(*spec: tuple) -> tuple[Col, ...]:
    return tuple(Col(*s) for s in spec)


DATASETS: dict[str, tuple[Col, ...]] = {
    "accounts": _cols(
        ("account_id", "text", "取引先ID"),
        ("account_name", "text", "取引先名"),
        ("industry", "text", "業種"),
        ("employee_count", "int", "従業員数"),
        ("capital_jpy", "money", "資本金"),
        ("prefecture", "text", "都道府県"),
        ("fiscal_year_end_month", "int", "決算月"),
        ("created_at", "timestamp", "作成日時"),
        ("updated_at", "timestamp", "更新日時"),
    ),
    "contacts": _cols(
        ("contact_id", "text", "連絡先ID"),
        ("account_id", "text", "取引先ID"),
        ("email", "text", "メール"),
        ("full_name", "text", "氏名"),
        ("department", "text", "部署"),
        ("title", "text", "役職"),
        ("is_decision_maker", "bool", "決裁者"),
        ("created_at", "timestamp", "作成日時"),
        ("updated_at", "timestamp", "更新日時"),
    ),
    "leads": _cols(
        ("lead_id", "text", "リードID"),
        ("account_id", "text", "取引先ID"),
        ("contact_email", "text", "メール"),
        ("campaign_id", "text", "キャンペーンID"),
        ("lead_type", "enum", "リード種別", ("new", "upsell", "cross_sell")),
        ("status", "enum", "ステータス", ("open", "qualified", "disqualified", "converted")),
        ("created_at", "timestamp", "作成日時"),
        ("updated_at", "timestamp", "更新日時"),
    ),
    "deals": _cols(
        ("deal_id", "text", "商談ID"),
        ("account_id", "text", "取引先ID"),
        ("deal_type", "enum", "商談種別", ("new", "upsell", "cross_sell", "renewal")),
        ("stage", "enum", "ステージ", ("prospecting", "proposal", "negotiation", "won", "lost")),
        ("amount_jpy", "money", "金額"),
        ("product_code", "text", "商品コード"),
        ("lead_id", "text", "リードID"),
        ("campaign_id", "text", "キャンペーンID"),
        ("owner", "text", "担当者"),
        ("created_at", "timestamp", "作成日時"),
        ("closed_at", "timestamp", "完了日"),
        ("updated_at", "timestamp", "更新日時"),
    ),
    "activities": _cols(
        ("activity_id", "text", "活動ID"),
        ("account_id", "text", "取引先ID"),
        ("contact_email", "text", "メール"),
        ("activity_type", "enum", "活動種別",
         ("call", "meeting", "inquiry", "support_ticket", "consultation")),
        ("campaign_id", "text", "キャンペーンID"),
        ("occurred_at", "timestamp", "日時"),
    ),
    "nps_responses": _cols(
        ("response_id", "text"),
        ("account_id", "text"),
        ("score", "int"),
        ("responded_at", "timestamp"),
    ),
    "products": _cols(
        ("product_code", "text", "商品コード"),
        ("product_name", "text", "商品名"),
        ("product_family", "text", "商品ファミリー"),
        ("tier_rank", "int", "グレード"),
        ("list_price_jpy", "money", "定価"),
        ("gross_margin_rate", "number", "粗利率"),
        ("is_subscription", "bool"),
    ),
    "invoices": _cols(
        ("invoice_id", "text", "請求書番号"),
        ("line_no", "int", "明細番号"),
        ("account_id", "text", "取引先ID"),
        ("invoice_date", "date", "請求日"),
        ("product_code", "text", "商品コード"),
        ("quantity", "number", "数量"),
        ("unit_price_jpy", "money", "単価"),
        ("amount_jpy", "money", "金額"),
        ("status", "enum", "ステータス", ("paid", "open", "void", "refunded")),
        ("updated_at", "timestamp", "更新日時"),
    ),
    "subscriptions": _cols(
        ("subscription_id", "text"),
        ("account_id", "text"),
        ("product_code", "text"),
        ("seats", "int"),
        ("mrr_jpy", "money"),
        ("usage_rate", "number"),
        ("start_date", "date"),
        ("end_date", "date"),
        ("renewal_date", "date"),
        ("status", "enum", "", ("active", "cancelled", "expired")),
        ("updated_at", "timestamp"),
    ),
    "email_events": _cols(
        ("event_id", "text"),
        ("campaign_id", "text"),
        ("step", "int"),
        ("message_id", "text"),
        ("recipient_email", "text"),
        ("event_type", "enum", "",
         ("sent", "delivered", "bounced", "opened", "clicked", "replied", "unsubscribed")),
        ("occurred_at", "timestamp"),
        ("url", "text"),
        ("user_agent", "text"),
    ),
    "dm_sends": _cols(
        ("campaign_id", "text"),
        ("account_id", "text"),
        ("campaign_code", "text"),
        ("address_status", "enum", "", ("delivered", "undeliverable")),
        ("sent_at", "date"),
    ),
    "seminar_attendance": _cols(
        ("campaign_id", "text"),
        ("contact_email", "text"),
        ("account_id", "text"),
        ("registered_at", "timestamp"),
        ("attended", "bool"),
        ("feedback_score", "int"),
    ),
    "campaigns": _cols(
        ("campaign_id", "text"),
        ("campaign_name", "text"),
        ("channel", "enum", "", ("email", "dm", "seminar")),
        ("objective", "enum", "", ("upsell", "cross_sell")),
        ("target_product_family", "text"),
        ("start_date", "date"),
        ("end_date", "date"),
        ("cost_jpy", "money"),
        ("gross_profit_per_deal_jpy", "money"),
        ("attribution_window_days", "int"),
        ("target_open_rate", "number"),
        ("target_click_rate", "number"),
        ("target_reply_rate", "number"),
        ("target_response_rate", "number"),
        ("target_attendees", "int"),
        ("target_inquiries", "int"),
        ("target_deals", "int"),
    ),
}

SOURCE_OF: dict[str, str] = {
    "accounts": "crm", "contacts": "crm", "leads": "crm", "deals": "crm", "activities": "crm",
    "nps_responses": "crm", "products": "billing", "invoices": "billing",
    "subscriptions": "billing", "email_events": "email", "dm_sends": "email",
    "seminar_attendance": "email", "campaigns": "plan",
}

# Key columns: a record's identity, used for "counts" (distinct records after newest-wins).
KEYS: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id",), "contacts": ("contact_id",), "leads": ("lead_id",),
    "deals": ("deal_id",), "activities": ("activity_id",), "nps_responses": ("response_id",),
    "products": ("product_code",), "invoices": ("invoice_id", "line_no"),
    "subscriptions": ("subscription_id",), "email_events": ("event_id",),
    "dm_sends": ("campaign_id", "account_id"), "seminar_attendance": ("campaign_id", "contact_email"),
    "campaigns": ("campaign_id",),
}

# Salesforce-style report headers (Opportunity export) for crm/deals.
SALESFORCE_DEALS: dict[str, str] = {
    "deal_id": "Opportunity ID",
    "account_id": "Account ID",
    "deal_type": "Type",
    "stage": "Stage",
    "amount_jpy": "Amount",
    "product_code": "Product Code",
    "lead_id": "Lead ID",
    "campaign_id": "Campaign ID",
    "owner": "Opportunity Owner",
    "created_at": "Created Date",
    "closed_at": "Close Date",
    "updated_at": "Last Modified Date",
}


def header_for(dataset: str, style: str) -> list[str]:
    """The header line a file of ``style`` (canonical, ja, salesforce) carries."""
    cols = DATASETS[dataset]
    if style == "canonical":
        return [c.name for c in cols]
    if style == "ja":
        missing = [c.name for c in cols if not c.ja]
        if missing:
            raise ValueError(f"{dataset}: no Japanese alias for {missing}")
        return [c.ja for c in cols]
    if style == "salesforce":
        if dataset != "deals":
            raise ValueError("Salesforce-style headers are only defined for deals")
        return [SALESFORCE_DEALS[c.name] for c in cols]
    raise ValueError(f"unknown header style {style!r}")


def col_type(dataset: str, column: str) -> str:
    return next(c.type for c in DATASETS[dataset] if c.name == column)
