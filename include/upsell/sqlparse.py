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
# ISO 8601 with a "+hh:mm" offset, the form most systems export (a LIKE pattern: cheap).
ISO_OFFSET_LIKE = "____-__-__T__:__:__+__:__"
# A time of day followed by an explicit offset (Z, +09, +09:00, +0900).
OFFSET_RE = r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$"


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


def is_one_of(expr: str, values: tuple[str, ...]) -> str:
    """``expr IN (values)``, written so that it stays a projection.

    DuckDB's optimizer turns an IN list of constants (even ``list_contains``) into a MARK
    join, and a join does not keep its rows in order: ingestion numbers a CSV file's
    records by their position in the typed table (``rowid``), so a join there moved a
    block of ≈ 120k rows of a 1.26M-row file and gave them other records' line numbers.
    A simple CASE is not rewritten.
    """
    return _mapped(expr, tuple((v, "true") for v in values), otherwise="false")


def _mapped(expr: str, pairs: tuple[tuple[str, str], ...], otherwise: str = "NULL") -> str:
    """``expr`` looked up in constant pairs (text -> SQL value), ``otherwise`` when absent.
    A simple CASE, for the reason given in ``is_one_of``."""
    whens = " ".join(f"WHEN {lit(k)} THEN {v}" for k, v in pairs)
    return f"CASE {expr} {whens} ELSE {otherwise} END"


def cleaned(ref: str) -> str:
    """Trim spaces (ASCII and ideographic), fold full-width digits and punctuation; '' -> NULL.

    ``translate`` is costly, so it only runs on values with non-ASCII characters
    (``strlen`` counts bytes, ``length`` characters): millions of plain values skip it.
    ``trim`` is costly too (it copies every value): see ``_ascii_trimmed``.
    """
    return (f"nullif(CASE WHEN strlen({ref}) <> length({ref}) "
            f"THEN trim(translate({ref}, {lit(FULLWIDTH)}, {lit(HALFWIDTH)})) "
            f"ELSE {_ascii_trimmed(ref)} END, '')")


def _ascii_trimmed(ref: str) -> str:
    """``trim(ref)`` for an ASCII value, copying only the values that need it.

    On ASCII text DuckDB's ``trim`` removes spaces (0x20) only, so a value that neither
    starts nor ends with one is returned as it is. ``trim`` copies every value it gets:
    on the 1.26M-row email-event files, four trimmed id columns cost 0.64 CPU-s against
    0.25 with this guard.
    """
    return f"CASE WHEN prefix({ref}, ' ') OR suffix({ref}, ' ') THEN trim({ref}) ELSE {ref} END"


def is_identifier(name: str) -> bool:
    """Join keys are trimmed; free text is not (a trailing space in an id breaks joins)."""
    return name.endswith(("_id", "_code", "email"))


def is_numeric(col: Column) -> bool:
    return col.type in ("int", "money", "number")


def cleaned_for(col: Column, ref: str) -> str:
    """The cleaned text a column's parser reads: numbers also lose yen signs and commas."""
    if is_numeric(col):
        return number_text(cleaned(ref))
    return cleaned(ref)


def number_text(c: str) -> str:
    """``c`` is a cleaned value. "¥1,234,567", "１２３４円", "1 234" -> "1234567".

    CP932 has no ¥ of its own: Japanese exports write 0x5C, which decodes as a backslash.
    The regular expression only runs where a yen sign, backslash or space can be, and
    ``replace`` (which copies) only where there is a comma. ``c`` appears several times:
    pass a column name, not an expression (DuckDB would evaluate it each time).
    """
    return (f"CASE WHEN strlen({c}) <> length({c}) OR contains({c}, '\\') OR contains({c}, ' ') "
            f"THEN regexp_replace({c}, '[¥￥円,\\\\\\s]', '', 'g') "
            f"WHEN contains({c}, ',') THEN replace({c}, ',', '') ELSE {c} END")


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
                 f"ELSE {_ascii_trimmed(ref)} END, '')")
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
        value = _mapped(low, tuple((w, "true") for w in TRUE_WORDS) + tuple((w, "false") for w in FALSE_WORDS))
        return value, failed("not a boolean")
    if col.type == "enum":
        # the accepted value itself (a constant), not a lowered copy of the cell
        canonical = tuple((v, lit(v)) for v in col.values)
        value = _mapped(f"lower({c})", canonical)
        if all(v.isascii() and v == v.lower() for v in col.values):
            # values already written in lower case, nearly all of them, skip ``lower``
            # (which copies every value it gets)
            value = f"coalesce({_mapped(c, canonical)}, {value})"
        return value, failed(f"unknown value (expected {'|'.join(col.values)})")
    if col.type == "date":
        # ISO first (a fast cast), then the other written forms.
        value = f"coalesce(try_cast({c} AS DATE), CAST(try_strptime({c}, {_list(NAIVE_TS_FORMATS)}) AS DATE))"
        return value, failed("not a date")
    if col.type == "timestamp":
        naive = f"coalesce(try_cast({c} AS TIMESTAMP), try_strptime({c}, {_list(NAIVE_TS_FORMATS)}))"
        # "YYYY-MM-DD HH:MM:SS" (19 characters) or shorter cannot carry an offset: the
        # regular expression only runs on longer values.
        general = (f"CASE WHEN length({c}) > 19 AND regexp_matches({c}, {lit(OFFSET_RE)}) "
                   f"THEN try_cast(replace({c}, '/', '-') AS TIMESTAMPTZ) "
                   f"ELSE timezone({lit(tz)}, {naive}) END")
        # ISO_OFFSET_LIKE skips the regular expression; COALESCE evaluates the general
        # form only for the rows the fast path could not read.
        value = f"coalesce(CASE WHEN {c} LIKE {lit(ISO_OFFSET_LIKE)} THEN try_cast({c} AS TIMESTAMPTZ) END, {general})"
        return value, failed("not a timestamp")
    raise ValueError(f"unknown column type {col.type!r}")


def value_and_error(col: Column, ref: str, tz: str) -> tuple[str, str]:
    """Both expressions inline (value repeated in the error): for small queries and tests."""
    value, error = parse_sql(col, ref, tz)
    return value, error(f"({value})")


def missing_error(name: str, ref_value: str) -> str:
    return f"CASE WHEN {ref_value} IS NULL THEN {lit('missing required ' + name)} END"
