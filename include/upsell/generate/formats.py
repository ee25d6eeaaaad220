"""Typed columns -> the text an export tool would write, vectorized with pyarrow.

Each export file has a :class:`Style`: its timestamp form, date form, boolean words and
how many number cells come out "messy" (``¥1,234,567``, ``1,234,567``, full-width
digits). Formatting goes through lookup tables (one string per calendar day and per
second of the day) and ``take``, which is far faster than ``strftime`` per row.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from upsell.generate.timeutil import DAY, JST_OFFSET

TS_FORMS = ("jst", "jst_min", "iso_jst", "iso_z")
DATE_FORMS = ("dash", "slash")
BOOL_WORDS: dict[str, tuple[str, str]] = {
    "true_false": ("true", "false"),
    "TRUE_FALSE": ("TRUE", "FALSE"),
    "one_zero": ("1", "0"),
    "yes_no": ("yes", "no"),
    "hai_iie": ("はい", "いいえ"),
    "maru_batsu": ("○", "×"),
}
FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


@dataclass(frozen=True)
class Style:
    """How one file writes its values."""

    ts: str = "jst"  # jst: 2025-04-01 09:05:00 | jst_min: 2025/04/01 9:05 | iso_jst | iso_z
    ts_mix: float = 0.0  # share of timestamp cells written in another of TS_FORMS
    date: str = "dash"  # dash: 2025-04-01 | slash: 2025/4/1
    date_mix: float = 0.0
    bools: str = "true_false"
    bools_mix: float = 0.0  # share of boolean cells written in another of BOOL_WORDS
    money_mess: float = 0.0  # share of money cells written as ¥1,234 / 1,234 / full-width
    int_mess: float = 0.0  # share of int cells written in full-width digits
    yen: bool = True  # CP932 has no ¥ (its 0x5C is a backslash): CP932 files never use it


@functools.cache
def _times(form: str) -> pa.Array:
    if form == "hms":
        return pa.array([f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60)
                         for s in range(60)])
    return pa.array([f"{h}:{m:02d}" for h in range(24) for m in range(60)])  # "9:05"


def _date_table(first: int, last: int, form: str) -> pa.Array:
    days = np.arange(first, last + 1, dtype=np.int64).astype("datetime64[D]")
    iso = np.datetime_as_string(days, unit="D")
    if form == "dash":
        return pa.array(iso.tolist())
    if form == "slash_padded":
        return pa.array([s.replace("-", "/") for s in iso.tolist()])
    return pa.array([f"{s[:4]}/{int(s[5:7])}/{int(s[8:10])}" for s in iso.tolist()])


def _valid(arr: pa.Array) -> np.ndarray:
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=bool)
    return np.asarray(pc.is_valid(arr))


def format_dates(days: np.ndarray, valid: np.ndarray, form: str) -> pa.Array:
    """Local days -> '2025-04-01' or '2025/4/1'; invalid -> ''."""
    out = pa.nulls(len(days), pa.string())
    if valid.any():
        d = days[valid]
        lo = int(d.min())
        table = _date_table(lo, int(d.max()), form)
        idx = np.where(valid, days - lo, 0)
        out = pc.take(table, pa.array(idx, mask=~valid))
    return pc.fill_null(out, "")


def format_timestamps(ts: np.ndarray, valid: np.ndarray, form: str) -> pa.Array:
    """UTC epoch seconds -> text in one of TS_FORMS (naive forms are Asia/Tokyo local)."""
    if not valid.any():
        return pc.fill_null(pa.nulls(len(ts), pa.string()), "")
    local = ts if form == "iso_z" else ts + JST_OFFSET
    day = np.floor_divide(local, DAY)
    sod = local - day * DAY
    lo = int(day[valid].min())
    hi = int(day[valid].max())
    mask = ~valid
    di = pa.array(np.where(valid, day - lo, 0), mask=mask)
    if form == "jst_min":
        dates = pc.take(_date_table(lo, hi, "slash_padded"), di)
        times = pc.take(_times("hm"), pa.array(sod // 60))
        out = pc.binary_join_element_wise(dates, times, " ")
    else:
        dates = pc.take(_date_table(lo, hi, "dash"), di)
        times = pc.take(_times("hms"), pa.array(sod))
        if form == "jst":
            out = pc.binary_join_element_wise(dates, times, " ")
        else:
            suffix = "+09:00" if form == "iso_jst" else "Z"
            out = pc.binary_join_element_wise(dates, times, "T")
            out = pc.binary_join_element_wise(out, pa.scalar(suffix), "")
    return pc.fill_null(out, "")


def group_thousands(values: np.ndarray) -> pa.Array:
    """Integers -> '1,234,567' (vectorized: pad, comma every 3 digits, strip padding)."""
    v = np.asarray(values, dtype=np.int64)
    s = pc.cast(pa.array(np.abs(v)), pa.string())
    s = pc.utf8_lpad(s, 18, padding="0")
    s = pc.replace_substring_regex(s, r"(\d{3})", r"\1,")
    s = pc.replace_substring_regex(s, r"^[0,]*", "")
    s = pc.replace_substring_regex(s, r",$", "")
    s = pc.if_else(pc.equal(pc.utf8_length(s), 0), "0", s)
    return pc.if_else(pa.array(v < 0), pc.binary_join_element_wise("-", s, ""), s)


def fullwidth(text: pa.Array) -> pa.Array:
    """Half-width digits and minus -> full-width (what a Japanese IME types)."""
    for half, full in zip("0123456789-", "０１２３４５６７８９－", strict=True):
        text = pc.replace_substring(text, half, full)
    return text


def _mixed(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    return rng.random(n) < share if share > 0 else np.zeros(n, dtype=bool)


def format_column(arr: pa.Array, type_: str, style: Style, rng: np.random.Generator) -> pa.Array:
    """One typed column -> its text cells (never null: a null cell is the empty string)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    valid = _valid(arr)
    if type_ in ("text", "enum"):
        if pa.types.is_dictionary(arr.type):
            # keep it dictionary-encoded: quoting then touches each distinct value once
            values = pa.concat_arrays([pc.fill_null(arr.dictionary, ""), pa.array([""])])
            indices = pc.fill_null(arr.indices, len(arr.dictionary))
            return pa.DictionaryArray.from_arrays(indices, values)
        return pc.fill_null(arr, "")
    if type_ == "bool":
        t, f = BOOL_WORDS[style.bools]
        out = pc.if_else(arr, t, f)
        alt = _mixed(rng, n, style.bools_mix)
        if alt.any():
            forms = [k for k in BOOL_WORDS if k != style.bools]
            pick = rng.integers(0, len(forms), n)
            for i, form in enumerate(forms):
                m = alt & (pick == i)
                if m.any():
                    t2, f2 = BOOL_WORDS[form]
                    out = pc.if_else(pa.array(m), pc.if_else(arr, t2, f2), out)
        return pc.fill_null(out, "")
    if type_ == "timestamp":
        ts = np.asarray(pc.fill_null(arr, 0), dtype=np.int64)
        out = format_timestamps(ts, valid, style.ts)
        alt = _mixed(rng, n, style.ts_mix) & valid
        if alt.any():
            others = [f for f in TS_FORMS if f != style.ts]
            pick = rng.integers(0, len(others), n)
            for i, form in enumerate(others):
                m = alt & (pick == i)
                if m.any():
                    out = pc.if_else(pa.array(m), format_timestamps(ts, valid & m, form), out)
        return out
    if type_ == "date":
        days = np.asarray(pc.fill_null(arr, 0), dtype=np.int64)
        out = format_dates(days, valid, style.date)
        alt = _mixed(rng, n, style.date_mix) & valid
        if alt.any():
            other = "slash" if style.date == "dash" else "dash"
            out = pc.if_else(pa.array(alt), format_dates(days, valid & alt, other), out)
        return out
    if type_ in ("int", "money", "number"):
        out = pc.fill_null(pc.cast(arr, pa.string()), "")
        share = style.money_mess if type_ == "money" else style.int_mess if type_ == "int" else 0.0
        mess = _mixed(rng, n, share) & valid
        if mess.any():
            idx = np.flatnonzero(mess)
            vals = np.asarray(arr.take(pa.array(idx)), dtype=np.int64)
            if type_ == "money":
                kind = rng.integers(0 if style.yen else 1, 3, idx.size)
            else:
                kind = np.full(idx.size, 2)
            grouped = group_thousands(vals)
            yen = pc.binary_join_element_wise("¥", grouped, "")
            wide = fullwidth(pc.cast(pa.array(vals), pa.string()))
            messy = pc.if_else(pa.array(kind == 0), yen,
                               pc.if_else(pa.array(kind == 1), grouped, wide))
            full = np.empty(n, dtype=np.int64)
            full[:] = -1
            full[idx] = np.arange(idx.size)
            taken = pc.take(messy, pa.array(np.where(mess, full, 0)))
            out = pc.if_else(pa.array(mess), taken, out)
        return out
    raise ValueError(f"unknown type {type_!r}")
