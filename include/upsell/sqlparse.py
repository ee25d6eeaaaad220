"""DuckDB SQL that turns the text of an export cell into a typed value, or a reason why not.

Parsing runs inside DuckDB, vectorized, because a Python loop over millions of rows is
far too slow. Each builder returns two SQL expressions over a VARCHAR column reference:
the typed value (NULL when empty or unparseable) and an error message (NULL when fine).
"""

from __future__ import annotations

from collections.abc import Callable

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
    """Trim spaces (ASCII and ideographic), fold full-width digits and punctuation; '' -> NULL.

    ``translate`` is costly, so it only runs on values with non-ASCII characters
    (``strlen`` counts bytes, ``length`` characters): millions of plain values skip it.
    """
    folded = (f"CASE WHEN strlen({ref}) <> length({ref}) "
              f"THEN translate({ref}, {lit(FULLWIDTH)}, {lit(HALFWIDTH)}) ELSE {ref} END")
    return f"nullif(trim({folded}), '')"


def is_identifier(name: str) -> bool:
    """Join keys are trimmed; free text is not (a trailing space in an id breaks joins)."""
    return name.endswith(("_id", "_code", "email"))


def cleaned_for(col: Column, ref: str) -> str:
    """The cleaned text a column's parser reads: numbers also lose yen signs and commas."""
    if col.type in ("int", "money", "number"):
        return _number_text(cleaned(ref))
    return cleaned(ref)


def _number_text(c: str) -> str:
    """``c`` is a cleaned value. "¥1,234,567", "１２３４円", "1 234" -> "1234567".

    CP932 has no ¥ of its own: Japanese exports write 0x5C, which decodes as a backslash.
    The regular expression only runs where a yen sign, backslash or space can be.
    """
    return (f"CASE WHEN strlen({c}) <> length({c}) OR contains({c}, '\\') OR contains({c}, ' ') "
            f"THEN regexp_replace({c}, '[¥￥円,\\\\\\s]', '', 'g') ELSE replace({c}, ',', '') END")


def parse_sql(col: Column, ref: str, tz: str, c: str | None = None) -> tuple[str, Callable[[str], str]]:
    """SQL for one column: the typed value, and a function giving the error expression.

    ``ref`` is the raw VARCHAR column; ``c`` a column already holding ``cleaned(ref)``
    (computed once in an inner query: DuckDB does not share repeated sub-expressions).
    The error function takes the name of the column the value was selected into, so the
    parse itself also runs only once per cell.
    """
    c = c or cleaned_for(col, ref)
    name = col.name

    def failed(message: str) -> Callable[[str], str]:
        label = lit(f"{name}: {message}: ")
        return lambda v: f"CASE WHEN {c} IS NOT NULL AND {v} IS NULL THEN {label} || {ref} END"

    if col.type == "text":
        if not is_identifier(col.name):
            # free text (names, URLs, user agents) is kept as written; only '' means missing
            return f"nullif({ref}, '')", lambda v: "NULL"
        value = (f"nullif(CASE WHEN strlen({ref}) <> length({ref}) THEN trim({ref}, ' 　\t\r\n') "
                 f"ELSE trim({ref}) END, '')")
        return value, lambda v: "NULL"
    if col.type in ("int", "money", "number"):
        text = c  # callers pass number_text(cleaned) as c (see ``cleaned_for``)
        value = f"try_cast({text} AS {col.sql_type})"
        if col.type == "int":
            # "12.0" is an integer; "12.5" is not. COALESCE only evaluates the slow branch
            # for the rows the fast cast could not read.
            as_double = f"try_cast({text} AS DOUBLE)"
            # (A BIGINT cast of "12.5" would round, hence the check for a decimal point.)
            value = (f"CASE WHEN NOT contains({text}, '.') THEN try_cast({text} AS BIGINT) "
                     f"WHEN {as_double} = floor({as_double}) THEN CAST({as_double} AS BIGINT) END")
        return value, failed("not an integer" if col.type == "int" else "not a number")
    if col.type == "bool":
        low = f"lower({c})"
        value = (f"CASE WHEN {low} IN ({', '.join(lit(w) for w in TRUE_WORDS)}) THEN true "
                 f"WHEN {low} IN ({', '.join(lit(w) for w in FALSE_WORDS)}) THEN false END")
        return value, failed("not a boolean")
    if col.type == "enum":
        low = f"lower({c})"
        value = f"CASE WHEN {low} IN ({', '.join(lit(v) for v in col.values)}) THEN {low} END"
        return value, failed(f"unknown value (expected {'|'.join(col.values)})")
    if col.type == "date":
        # ISO first (a fast cast), then the other written forms.
        value = f"coalesce(try_cast({c} AS DATE), CAST(try_strptime({c}, {_list(NAIVE_TS_FORMATS)}) AS DATE))"
        return value, failed("not a date")
    if col.type == "timestamp":
        naive = f"coalesce(try_cast({c} AS TIMESTAMP), try_strptime({c}, {_list(NAIVE_TS_FORMATS)}))"
        # "YYYY-MM-DD HH:MM:SS" (19 characters) or shorter cannot carry an offset: the
        # regular expression only runs on longer values.
        value = (f"CASE WHEN length({c}) > 19 AND regexp_matches({c}, {lit(OFFSET_RE)}) "
                 f"THEN try_cast(replace({c}, '/', '-') AS TIMESTAMPTZ) "
                 f"ELSE timezone({lit(tz)}, {naive}) END")
        return value, failed("not a timestamp")
    raise ValueError(f"unknown column type {col.type!r}")


def value_and_error(col: Column, ref: str, tz: str) -> tuple[str, str]:
    """Both expressions inline (value repeated in the error): for small queries and tests."""
    value, error = parse_sql(col, ref, tz)
    return value, error(f"({value})")


def missing_error(name: str, ref_value: str) -> str:
    return f"CASE WHEN {ref_value} IS NULL THEN {lit('missing required ' + name)} END"
