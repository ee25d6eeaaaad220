"""Each parsing rule of the input contract, evaluated by real DuckDB on the SQL we generate."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import pytest

from upsell.contracts import Column
from upsell.sqlparse import _ascii_trimmed, value_and_error


def evaluate(col: Column, text: str | None, tz: str = "Asia/Tokyo"):
    value, error = value_and_error(col, "x", tz)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(f"SELECT {value}, {error} FROM (SELECT ?::VARCHAR AS x)", [text]).fetchone()


MONEY = Column("amount_jpy", "money")
INT = Column("employee_count", "int")
RATE = Column("usage_rate", "number")


@pytest.mark.parametrize("text, expected", [
    ("1234567", Decimal("1234567")),
    ("1,234,567", Decimal("1234567")),
    ("¥1,234,567", Decimal("1234567")),
    ("￥1,234,567", Decimal("1234567")),
    ("\\1,234", Decimal("1234")),  # CP932 0x5C: the yen sign decodes as a backslash
    ("１２３４", Decimal("1234")),
    ("１，２３４円", Decimal("1234")),
    ("-5,000", Decimal("-5000")),  # credit notes
    ("  42  ", Decimal("42")),
    ("12.50", Decimal("12.50")),
])
def test_money_forms(text, expected):
    assert evaluate(MONEY, text) == (expected, None)


@pytest.mark.parametrize("text", [None, "", "   ", "　"])
def test_empty_number_is_null_without_error(text):
    assert evaluate(MONEY, text) == (None, None)


@pytest.mark.parametrize("text", ["12x3", "abc", "1.2.3"])
def test_bad_number_has_reason(text):
    value, error = evaluate(MONEY, text)
    assert value is None
    assert error == f"amount_jpy: not a number: {text}"


def test_int_accepts_integral_decimals_only():
    assert evaluate(INT, "１２０") == (120, None)
    assert evaluate(INT, "12.0") == (12, None)
    assert evaluate(INT, "12.5")[1] == "employee_count: not an integer: 12.5"


def test_rate_is_double():
    assert evaluate(RATE, "0.85") == (0.85, None)


BOOL = Column("attended", "bool")


@pytest.mark.parametrize("text, expected", [
    ("true", True), ("false", False), ("TRUE", True), ("False", False), ("1", True), ("0", False),
    ("yes", True), ("no", False), ("はい", True), ("いいえ", False), ("○", True), ("×", False),
])
def test_booleans(text, expected):
    assert evaluate(BOOL, text) == (expected, None)


def test_bad_boolean():
    assert evaluate(BOOL, "maybe") == (None, "attended: not a boolean: maybe")


DATE = Column("invoice_date", "date")


@pytest.mark.parametrize("text", ["2025-04-01", "2025/4/1", "2025/04/01", "２０２５/４/１",
                                  "2025年4月1日", "20250401"])
def test_date_forms(text):
    assert evaluate(DATE, text) == (date(2025, 4, 1), None)


@pytest.mark.parametrize("text", ["2025-13-45", "2025-02-30", "yesterday", "4/1/2025"])
def test_bad_dates(text):
    assert evaluate(DATE, text) == (None, f"invoice_date: not a date: {text}")


TS = Column("occurred_at", "timestamp")


@pytest.mark.parametrize("text, expected_utc", [
    # no offset: Asia/Tokyo local time, stored as UTC (JST = UTC+9)
    ("2025/04/01 9:05", datetime(2025, 4, 1, 0, 5, tzinfo=UTC)),
    ("2025-04-01 09:05:00", datetime(2025, 4, 1, 0, 5, tzinfo=UTC)),
    ("2025-04-01T09:05:00", datetime(2025, 4, 1, 0, 5, tzinfo=UTC)),
    ("2025-04-01", datetime(2025, 3, 31, 15, 0, tzinfo=UTC)),
    # explicit offsets win
    ("2025-04-01T09:05:00+09:00", datetime(2025, 4, 1, 0, 5, tzinfo=UTC)),
    ("2025-04-01T00:05:00Z", datetime(2025, 4, 1, 0, 5, tzinfo=UTC)),
    ("2025-04-01T02:05:00+02:00", datetime(2025, 4, 1, 0, 5, tzinfo=UTC)),
    ("2025-04-01 00:05:00+00", datetime(2025, 4, 1, 0, 5, tzinfo=UTC)),
    # an offset after slashes, and spaces around the value
    ("2025/04/01 06:05:00+06:00", datetime(2025, 4, 1, 0, 5, tzinfo=UTC)),
    (" 2025-03-31T21:05:00-03:00 ", datetime(2025, 4, 1, 0, 5, tzinfo=UTC)),
    # the spec's boundary example: 2025-04-01 01:00 JST is still FY2025 after storing as UTC
    ("2025/4/1 1:00", datetime(2025, 3, 31, 16, 0, tzinfo=UTC)),
    # offsets the ISO fast path does not take ("-hh:mm", "+hhmm", fractions)
    ("2025-03-31T21:05:00-03:00", datetime(2025, 4, 1, 0, 5, tzinfo=UTC)),
    ("2025-04-01T09:05:00+0900", datetime(2025, 4, 1, 0, 5, tzinfo=UTC)),
    ("2025-04-01T09:05:00.250+09:00", datetime(2025, 4, 1, 0, 5, 0, 250000, tzinfo=UTC)),
])
def test_timestamp_forms(text, expected_utc):
    value, error = evaluate(TS, text)
    assert error is None
    assert value == expected_utc


def test_business_time_zone_is_configurable():
    value, _ = evaluate(TS, "2025-04-01 09:05", tz="UTC")
    assert value == datetime(2025, 4, 1, 9, 5, tzinfo=UTC)


def test_bad_timestamp():
    assert evaluate(TS, "2025-04-01 25:99") == (None, "occurred_at: not a timestamp: 2025-04-01 25:99")
    # shaped like the ISO fast path, but no such day or no digits: the general path decides
    for text in ("2025-02-30T09:05:00+09:00", "abcd-ef-ghTij:kl:mn+op:qr"):
        assert evaluate(TS, text) == (None, f"occurred_at: not a timestamp: {text}")


ENUM = Column("stage", "enum", values=("won", "lost"))


def test_enum_case_insensitive_and_unknown():
    assert evaluate(ENUM, " Won ") == ("won", None)
    assert evaluate(ENUM, "closed-ish") == (None, "stage: unknown value (expected won|lost): closed-ish")


def test_identifiers_are_trimmed_free_text_is_kept():
    assert evaluate(Column("account_id", "text"), "　A-001 ") == ("A-001", None)
    assert evaluate(Column("account_id", "text"), " A-001  ") == ("A-001", None)
    assert evaluate(Column("account_id", "text"), "A-001") == ("A-001", None)
    assert evaluate(Column("account_id", "text"), "A-001 ") == ("A-001", None)
    assert evaluate(Column("account_id", "text"), " A-001") == ("A-001", None)
    assert evaluate(Column("account_id", "text"), "A-001　") == ("A-001", None)
    assert evaluate(Column("account_id", "text"), "   ") == (None, None)
    assert evaluate(Column("account_name", "text"), "株式会社A ") == ("株式会社A ", None)
    assert evaluate(Column("account_name", "text"), "") == (None, None)


def test_ascii_trim_guard_returns_what_trim_returns():
    """The guard skips ``trim`` for values that start and end with no space: exact only
    while DuckDB's ``trim`` removes nothing but 0x20 from ASCII text, checked here for
    every ASCII character before, after and around a value."""
    texts = [f"{p}a{s}" for i in range(1, 128) for p, s in ((chr(i), ""), ("", chr(i)), (chr(i), chr(i)))]
    texts += ["", " ", "  ", "a b", " a b ", "a  "]
    con = duckdb.connect()
    rows = con.execute(f"SELECT x, trim(x), {_ascii_trimmed('x')} FROM unnest(?::VARCHAR[]) AS t(x)",
                       [texts]).fetchall()
    assert len(rows) == len(texts)
    assert [(x, plain) for x, plain, _ in rows] == [(x, guarded) for x, _, guarded in rows]
