"""The input contract of ``spec/exports.md`` as data.

Every other module (discovery, header matching, typing SQL, raw DDL, tests) reads the
datasets from here, so the contract is written down exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Logical column types. Each maps to one DuckDB type and one parsing rule in ``sqlparse``.
SQL_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "int": "BIGINT",
    "money": "DECIMAL(18,2)",  # JPY amounts: exact, so sums reconcile to the yen
    "number": "DOUBLE",  # quantities, rates 0-1
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",  # stored as an instant (UTC); naive input is business-local
    "bool": "BOOLEAN",
    "enum": "VARCHAR",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    key: bool = False
    alias_ja: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # allowed values of an enum

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Dataset:
    name: str
    source: str
    columns: tuple[Column, ...]
    # (column, values) pairs: when `column` has one of `values`, `then_required` must be set.
    conditional_required: tuple[tuple[str, tuple[str, ...], str], ...] = field(default=())

    @property
    def keys(self) -> list[str]:
        return [c.name for c in self.columns if c.key]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, type_: str, *, req: bool = False, key: bool = False, ja: str | tuple = (),
       values: tuple[str, ...] = ()) -> Column:
    aliases = (ja,) if isinstance(ja, str) else tuple(ja)
    return Column(name, type_, required=req or key, key=key, alias_ja=aliases, values=values)


_CREATED = _c("created_at", "timestamp", req=True, ja="作成日時")
_UPDATED = _c("updated_at", "timestamp", req=True, ja="更新日時")

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset("accounts", "crm", (
            _c("account_id", "text", key=True, ja="取引先ID"),
            _c("account_name", "text", req=True, ja="取引先名"),
            _c("industry", "text", ja="業種"),
            _c("employee_count", "int", ja="従業員数"),
            _c("capital_jpy", "money", ja="資本金"),
            _c("prefecture", "text", ja="都道府県"),
            _c("fiscal_year_end_month", "int", ja="決算月"),
            _CREATED,
            _UPDATED,
        )),
        Dataset("contacts", "crm", (
            _c("contact_id", "text", key=True, ja="連絡先ID"),
            _c("account_id", "text", req=True, ja="取引先ID"),
            _c("email", "text", ja=("メール", "メールアドレス")),
            _c("full_name", "text", ja=("氏名", "名前")),
            _c("department", "text", ja="部署"),
            _c("title", "text", ja="役職"),
            _c("is_decision_maker", "bool", ja="決裁者"),
            _CREATED,
            _UPDATED,
        )),
        Dataset("leads", "crm", (
            _c("lead_id", "text", key=True, ja="リードID"),
            _c("account_id", "text", ja="取引先ID"),
            _c("contact_email", "text", ja=("メール", "メールアドレス")),
            _c("campaign_id", "text", ja="キャンペーンID"),
            _c("lead_type", "enum", req=True, ja="リード種別",
               values=("new", "upsell", "cross_sell")),
            _c("status", "enum", ja="ステータス",
               values=("open", "qualified", "disqualified", "converted")),
            _CREATED,
            _UPDATED,
        )),
        Dataset("deals", "crm", (
            _c("deal_id", "text", key=True, ja="商談ID"),
            _c("account_id", "text", req=True, ja="取引先ID"),
            _c("deal_type", "enum", req=True, ja="商談種別",
               values=("new", "upsell", "cross_sell", "renewal")),
            _c("stage", "enum", req=True, ja="ステージ",
               values=("prospecting", "proposal", "negotiation", "won", "lost")),
            _c("amount_jpy", "money", ja="金額"),
            _c("product_code", "text", ja="商品コード"),
            _c("lead_id", "text", ja="リードID"),
            _c("campaign_id", "text", ja="キャンペーンID"),
            _c("owner", "text", ja="担当者"),
            _c("created_at", "timestamp", req=True, ja="作成日時"),
            _c("closed_at", "timestamp", ja="完了日"),
            _UPDATED,
        ), conditional_required=(("stage", ("won", "lost"), "closed_at"),)),
        Dataset("activities", "crm", (
            _c("activity_id", "text", key=True, ja="活動ID"),
            _c("account_id", "text", ja="取引先ID"),
            _c("contact_email", "text", ja=("メール", "メールアドレス")),
            _c("activity_type", "enum", req=True, ja="活動種別",
               values=("call", "meeting", "inquiry", "support_ticket", "consultation")),
            _c("campaign_id", "text", ja="キャンペーンID"),
            _c("occurred_at", "timestamp", req=True, ja="日時"),
        )),
        Dataset("nps_responses", "crm", (
            _c("response_id", "text", key=True, ja="回答ID"),
            _c("account_id", "text", req=True, ja="取引先ID"),
            _c("score", "int", req=True, ja="スコア"),
            _c("responded_at", "timestamp", req=True, ja="回答日時"),
        )),
        Dataset("products", "billing", (
            _c("product_code", "text", key=True, ja="商品コード"),
            _c("product_name", "text", req=True, ja="商品名"),
            _c("product_family", "text", req=True, ja="商品ファミリー"),
            _c("tier_rank", "int", req=True, ja="グレード"),
            _c("list_price_jpy", "money", ja="定価"),
            _c("gross_margin_rate", "number", ja="粗利率"),
            _c("is_subscription", "bool", ja="サブスクリプション"),
        )),
        Dataset("invoices", "billing", (
            _c("invoice_id", "text", key=True, ja="請求書番号"),
            _c("line_no", "int", key=True, ja="明細番号"),
            _c("account_id", "text", req=True, ja="取引先ID"),
            _c("invoice_date", "date", req=True, ja="請求日"),
            _c("product_code", "text", req=True, ja="商品コード"),
            _c("quantity", "number", ja="数量"),
            _c("unit_price_jpy", "money", ja="単価"),
            _c("amount_jpy", "money", req=True, ja="金額"),
            _c("status", "enum", req=True, ja="ステータス",
               values=("paid", "open", "void", "refunded")),
            _c("updated_at", "timestamp", ja="更新日時"),
        )),
        Dataset("subscriptions", "billing", (
            _c("subscription_id", "text", key=True, ja="契約ID"),
            _c("account_id", "text", req=True, ja="取引先ID"),
            _c("product_code", "text", req=True, ja="商品コード"),
            _c("seats", "int", ja="席数"),
            _c("mrr_jpy", "money", ja="月額"),
            _c("usage_rate", "number", ja="利用率"),
            _c("start_date", "date", req=True, ja="開始日"),
            _c("end_date", "date", ja="終了日"),
            _c("renewal_date", "date", ja="更新日"),
            _c("status", "enum", req=True, ja="ステータス",
               values=("active", "cancelled", "expired")),
            _UPDATED,
        )),
        Dataset("email_events", "email", (
            _c("event_id", "text", key=True),
            _c("campaign_id", "text", req=True, ja="キャンペーンID"),
            _c("step", "int", ja="ステップ"),
            _c("message_id", "text", req=True),
            _c("recipient_email", "text", req=True, ja=("メール", "メールアドレス")),
            _c("event_type", "enum", req=True,
               values=("sent", "delivered", "bounced", "opened", "clicked", "replied",
                       "unsubscribed")),
            _c("occurred_at", "timestamp", req=True, ja="日時"),
            _c("url", "text"),
            _c("user_agent", "text"),
        )),
        Dataset("dm_sends", "email", (
            _c("campaign_id", "text", key=True, ja="キャンペーンID"),
            _c("account_id", "text", key=True, ja="取引先ID"),
            _c("campaign_code", "text", ja="キャンペーンコード"),
            _c("address_status", "enum", req=True, values=("delivered", "undeliverable")),
            _c("sent_at", "date", req=True, ja="発送日"),
        )),
        Dataset("seminar_attendance", "email", (
            _c("campaign_id", "text", key=True, ja="キャンペーンID"),
            _c("contact_email", "text", key=True, ja=("メール", "メールアドレス")),
            _c("account_id", "text", ja="取引先ID"),
            _c("registered_at", "timestamp", req=True, ja="申込日時"),
            _c("attended", "bool", req=True, ja="出席"),
            _c("feedback_score", "int", ja="満足度"),
        )),
        Dataset("campaigns", "plan", (
            _c("campaign_id", "text", key=True, ja="キャンペーンID"),
            _c("campaign_name", "text", req=True, ja="キャンペーン名"),
            _c("channel", "enum", req=True, ja="チャネル", values=("email", "dm", "seminar")),
            _c("objective", "enum", req=True, ja="目的", values=("upsell", "cross_sell")),
            _c("target_product_family", "text", ja="対象商品ファミリー"),
            _c("start_date", "date", req=True, ja="開始日"),
            _c("end_date", "date", req=True, ja="終了日"),
            _c("cost_jpy", "money", ja="費用"),
            _c("gross_profit_per_deal_jpy", "money", ja="1件あたり粗利"),
            _c("attribution_window_days", "int", ja="効果測定期間"),
            _c("target_open_rate", "number", ja="目標開封率"),
            _c("target_click_rate", "number", ja="目標クリック率"),
            _c("target_reply_rate", "number", ja="目標返信率"),
            _c("target_response_rate", "number", ja="目標反応率"),
            _c("target_attendees", "int", ja="目標参加者数"),
            _c("target_inquiries", "int", ja="目標問い合わせ数"),
            _c("target_deals", "int", ja="目標成約数"),
        )),
    ]
}

SOURCES: dict[str, list[str]] = {}
for _d in DATASETS.values():
    SOURCES.setdefault(_d.source, []).append(_d.name)

# Datasets whose newest version per key wins downstream (they carry updated_at).
VERSIONED = {name for name, d in DATASETS.items() if any(c.name == "updated_at" for c in d.columns)}
