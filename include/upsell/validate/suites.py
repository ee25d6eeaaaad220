"""The expectation suites, as code.

Severity ``critical`` = error level (blocks publish), ``warning`` = reported only. Raw
suites follow the input contract (``contracts.py``); mart suites follow the output
contract (``spec/metrics.md``): the column names they check are the spec's.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from upsell.contracts import DATASETS

ERROR = "critical"
WARNING = "warning"

# Columns of raw datasets with a contractual range (inclusive).
RAW_RANGES: dict[str, dict[str, tuple[float | None, float | None]]] = {
    "nps_responses": {"score": (0, 10)},
    "subscriptions": {"usage_rate": (0, 1), "seats": (0, None), "mrr_jpy": (0, None)},
    "products": {"gross_margin_rate": (0, 1), "tier_rank": (1, None)},
    "accounts": {"fiscal_year_end_month": (1, 12), "employee_count": (0, None)},
    "seminar_attendance": {"feedback_score": (1, 5)},
    "email_events": {"step": (1, None)},
    "campaigns": {c: (0, 1) for c in ("target_open_rate", "target_click_rate", "target_reply_rate",
                                      "target_response_rate")} | {"attribution_window_days": (0, None)},
}

# Dates/timestamps that may not lie after as-of + 1 day (exports are taken the night after).
RAW_EVENT_DATES: dict[str, list[str]] = {
    "accounts": ["created_at", "updated_at"], "contacts": ["created_at", "updated_at"],
    "leads": ["created_at", "updated_at"], "deals": ["created_at", "closed_at", "updated_at"],
    "activities": ["occurred_at"], "nps_responses": ["responded_at"], "invoices": ["invoice_date", "updated_at"],
    "subscriptions": ["start_date", "updated_at"], "email_events": ["occurred_at"], "dm_sends": ["sent_at"],
    "seminar_attendance": ["registered_at"],
}

# Bad-but-parseable days: a share of values that is normal in a few rows and a broken
# export when it is most of the file (every event bounced, every amount zero).
RAW_MOSTLY_NOT: dict[str, list[tuple[str, list, float]]] = {
    "email_events": [("event_type", ["bounced"], 0.5)],
    "invoices": [("amount_jpy", [0], 0.5)],
}

# Referential checks (warning): child dataset column -> parent dataset column.
RAW_REFERENCES: dict[str, list[tuple[str, str, str]]] = {
    "invoices": [("account_id", "accounts", "account_id"), ("product_code", "products", "product_code")],
    "subscriptions": [("account_id", "accounts", "account_id")],
    "deals": [("account_id", "accounts", "account_id")],
    "contacts": [("account_id", "accounts", "account_id")],
}

CPM_SEGMENTS = ["first_time", "early_repeat", "steady", "trendy", "loyal",
                "first_time_lapsed", "early_repeat_lapsed", "steady_lapsed", "trendy_lapsed", "loyal_lapsed"]

# Output columns that are rates or shares in [0, 1] wherever they appear in a mart.
MART_RATE_COLUMNS = {
    "upsell_rate", "cross_sell_rate", "upsell_lead_quality", "upsell_close_rate",
    "open_rate", "click_rate", "reply_rate", "bounce_rate", "click_to_open_rate",
    "human_open_rate", "human_click_rate", "response_rate", "attendance_rate", "unsubscribe_rate",
    "support", "confidence", "probability_alive",
    "contract_value_component", "tenure_component", "usage_component", "headroom_component",
    "satisfaction_component",
}
# predicted CLV columns (customer_clv_prediction, customer_360, upsell_next_best_action)
MART_NON_NEGATIVE = {"expected_purchases_365d", "expected_avg_purchase_value_jpy", "predicted_clv_365d_jpy"}
MART_SCORE_1_5 = {"r_score", "f_score", "m_score"}
MART_SCORE_0_100 = {"score", "engagement_score"}


def reference_column(column: str, parent: str) -> str:
    """The derived boolean column the raw gate fetches for a referential check: whether the
    value exists in the parent dataset (NULL when the value itself is NULL).

    Computed by DuckDB as a semi-join: handing GX the parent's ids as a ``value_set`` made
    GX copy and re-validate a 50k-element list thousands of times per suite (pydantic), which
    was 70 % of the raw gate at M scale."""
    return f"{column}_in_{parent}"


def raw_file_suite(dataset: str, as_of: date, parents_present: set[str] | frozenset[str] = frozenset()) -> list:
    """Expectations for the rows one file loaded into ``raw.<dataset>``. ``parents_present``:
    the parent datasets that have rows in raw (a referential check needs its parent)."""
    import great_expectations.expectations as gxe

    spec = DATASETS[dataset]
    exps: list = []
    for col in spec.columns:
        if col.required:
            exps.append(gxe.ExpectColumnValuesToNotBeNull(column=col.name, severity=ERROR))
        if col.type == "enum":
            exps.append(gxe.ExpectColumnValuesToBeInSet(column=col.name, value_set=list(col.values), severity=ERROR))
    for column, (low, high) in RAW_RANGES.get(dataset, {}).items():
        exps.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high, severity=ERROR))
    limit = as_of + timedelta(days=1)
    for column in RAW_EVENT_DATES.get(dataset, []):
        # compared on the business-local date (the run converts before validating); a
        # datetime bound, as GX's pandas engine compares datetime64 columns with datetimes
        exps.append(gxe.ExpectColumnValuesToBeBetween(column=column, max_value=datetime.combine(limit, time.min),
                                                       severity=ERROR))
    for column, values, share in RAW_MOSTLY_NOT.get(dataset, []):
        exps.append(gxe.ExpectColumnValuesToNotBeInSet(column=column, value_set=values, mostly=1 - share,
                                                       severity=ERROR))
    for column, parent, _parent_col in RAW_REFERENCES.get(dataset, []):
        if parent in parents_present:
            exps.append(gxe.ExpectColumnValuesToBeInSet(column=reference_column(column, parent), value_set=[True],
                                                        severity=WARNING))
    return exps


def raw_volume_suite(min_ratio: float) -> list:
    """Rows loaded by this run per dataset vs the median of its recent loads."""
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnValuesToBeBetween(column="volume_ratio", min_value=min_ratio, severity=ERROR)]


# Marts whose size follows the calendar by design, so the night-over-night row-count check
# (``row_count_suite``) would block legitimate nights, with the bound that replaces it.
# upsell_next_best_action lists an account when a timing reason holds *today*: the day
# the two-month look-ahead reaches the year-end of the accounts with a December fiscal
# year (as-of 10-31) the bundled sample's list grows from 297 to 491 rows. Its structural
# bound: at most an upsell and a cross-sell per account of upsell_propensity.
CALENDAR_DRIVEN_MARTS: dict[str, tuple[str, int]] = {
    "upsell_next_best_action": ("upsell_propensity", 2),
}


def mart_suite(mart: str, columns: list[str], previous_rows: int | None, tolerance: float,
               reconciliations: dict[str, float] | None = None, max_rows: int | None = None) -> list:
    """Expectations for one whole mart. ``max_rows``: the structural bound of a
    calendar-driven mart (``CALENDAR_DRIVEN_MARTS``), which has no row-count drift check."""
    import great_expectations.expectations as gxe

    # every mart: an empty table is reported (a warning: a landing folder without, say,
    # campaigns legitimately leaves the campaign marts empty)
    exps: list = [gxe.ExpectTableRowCountToBeBetween(min_value=1, severity=WARNING)]
    for column in columns:
        if column in MART_RATE_COLUMNS:
            exps.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=1, severity=ERROR))
        elif column in MART_SCORE_1_5:
            exps.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=1, max_value=5, severity=ERROR))
        elif column in MART_SCORE_0_100:
            exps.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=100, severity=ERROR))
        elif column in MART_NON_NEGATIVE:
            exps.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, severity=ERROR))
        elif column == "cpm_segment":
            exps.append(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=CPM_SEGMENTS, severity=ERROR))
    if "account_id" in columns and mart.startswith("customer_"):
        exps.append(gxe.ExpectColumnValuesToNotBeNull(column="account_id", severity=ERROR))
    for column, total in (reconciliations or {}).items():
        # ties the mart back to the raw totals, to the yen (amounts are exact decimals)
        exps.append(gxe.ExpectColumnSumToBeBetween(column=column, min_value=total - 0.5, max_value=total + 0.5,
                                                   severity=ERROR))
    if mart in CALENDAR_DRIVEN_MARTS:
        if max_rows is not None:
            exps.append(gxe.ExpectTableRowCountToBeBetween(min_value=0, max_value=max_rows, severity=ERROR))
        return exps
    return exps + row_count_suite(previous_rows, tolerance)


def row_count_suite(previous_rows: int | None, tolerance: float) -> list:
    """The row count within ``tolerance`` (a fraction) of the previous night's: a mart that
    halves or doubles overnight points at a broken input rather than a changed business."""
    import great_expectations.expectations as gxe

    if not previous_rows:
        return []
    return [gxe.ExpectTableRowCountToBeBetween(
        min_value=int(previous_rows * (1 - tolerance)), max_value=int(previous_rows * (1 + tolerance)) + 1,
        severity=ERROR)]
