"""DuckDB SQL that turns the text of an export cell into a typed value, or a reason why not.

Parsing runs inside DuckDB, vectorized, because a Python loop over millions of rows is
far too slow. Each builder returns two SQL expressions over a VARCHAR column reference:
the typed value (NULL when empty or unparseable) and an error message (NULL when fine).
"""

from __future__ import annotations

from upsell.contracts import Column

FULLWIDTH = "０１２３４５６７８９．，－＋：／　"
HALFWIDTH = "0123456789.,-+:/ "

TRUE_WORDS = ("true", "t", "1", "yes", "y", "はい", "○", "〇", "◯", "on")
FALSE_WORDS = ("false", "f", "0", "no", "n", "いいえ", "×", "✕", "off")

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d")
NAIVE_TS_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S.%f",
) + DATE_FORMATS
# A time of day followed by an explicit offset (Z, +09, +09:00, +0900).
OFFSET_RE = r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$"


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


def cleaned(ref: str) -> str:
    """Trim ASCII/ideographic spaces, fold full-width digits and punctuation; '' -> NULL."""
    return f"nullif(trim(translate({ref}, {lit(FULLWIDTH)}, {lit(HALFWIDTH)}), ' \t\r\n'), '')"


def _number_text(ref: str) -> str:
    # "¥1,234,567", "１２３４円", "1 234" -> "1234567"; the yen signs and separators go.
    # CP932 has no ¥ of its own: Japanese exports write 0x5C, which decodes as a backslash.
    return f"regexp_replace({cleaned(ref)}, '[¥￥円,\\\\\\s]', '', 'g')"


def value_and_error(col: Column, ref: str, tz: str) -> tuple[str, str]:
    """SQL (value, error) for one column. ``ref`` is a quoted VARCHAR column reference."""
    c = cleaned(ref)
    name = col.name
    if col.type == "text":
        value = f"nullif(trim({ref}, ' 　\t\r\n'), '')"
        return value, "NULL"
    if col.type in ("int", "money", "number"):
        target = col.sql_type
        text = _number_text(ref)
        value = f"try_cast({text} AS {target})"
        if col.type == "int":
            # "12.0" is an integer; "12.5" is not.
            value = (f"CASE WHEN try_cast({text} AS DOUBLE) = floor(try_cast({text} AS DOUBLE)) "
                     f"THEN try_cast(try_cast({text} AS DOUBLE) AS BIGINT) END")
        kind = "an integer" if col.type == "int" else "a number"
        return value, _error_if(f"{c} IS NOT NULL AND {value} IS NULL", f"{name}: not {kind}", ref)
    if col.type == "bool":
        low = f"lower({c})"
        value = (f"CASE WHEN {low} IN ({', '.join(lit(w) for w in TRUE_WORDS)}) THEN true "
                 f"WHEN {low} IN ({', '.join(lit(w) for w in FALSE_WORDS)}) THEN false END")
        return value, _error_if(f"{c} IS NOT NULL AND {value} IS NULL", f"{name}: not a boolean", ref)
    if col.type == "enum":
        low = f"lower({c})"
        value = f"CASE WHEN {low} IN ({', '.join(lit(v) for v in col.values)}) THEN {low} END"
        msg = f"{name}: unknown value (expected {'|'.join(col.values)})"
        return value, _error_if(f"{c} IS NOT NULL AND {value} IS NULL", msg, ref)
    if col.type == "date":
        value = f"CAST(try_strptime({c}, {_list(NAIVE_TS_FORMATS)}) AS DATE)"
        return value, _error_if(f"{c} IS NOT NULL AND {value} IS NULL", f"{name}: not a date", ref)
    if col.type == "timestamp":
        naive = f"try_strptime({c}, {_list(NAIVE_TS_FORMATS)})"
        value = (f"CASE WHEN regexp_matches({c}, {lit(OFFSET_RE)}) "
                 f"THEN try_cast(replace({c}, '/', '-') AS TIMESTAMPTZ) "
                 f"ELSE timezone({lit(tz)}, {naive}) END")
        return value, _error_if(f"{c} IS NOT NULL AND {value} IS NULL", f"{name}: not a timestamp", ref)
    raise ValueError(f"unknown column type {col.type!r}")


def _error_if(condition: str, message: str, ref: str) -> str:
    return f"CASE WHEN {condition} THEN {lit(message + ': ')} || {ref} END"


def missing_error(name: str, ref_value: str) -> str:
    return f"CASE WHEN {ref_value} IS NULL THEN {lit('missing required ' + name)} END"
