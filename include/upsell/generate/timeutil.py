"""Time arithmetic on plain integers: instants are int64 epoch seconds (UTC), dates are
int days since 1970-01-01 in business-local time (Asia/Tokyo, UTC+9, no DST).

Integers vectorize well and make JST/UTC conversions exact, which matters because the
exports mix naive-local, ``+09:00`` and ``Z`` forms of the same instant.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

JST_OFFSET = 9 * 3600
DAY = 86400

# Purchases peak at the Japanese fiscal year-end (March) and onboarding (April).
SEASON = np.array([0.0, 0.85, 0.95, 1.9, 1.55, 0.85, 0.9, 0.9, 0.7, 1.15, 0.9, 0.9, 1.05])


def day_of(d: dt.date) -> int:
    """Days since the epoch for a calendar date."""
    return (d - dt.date(1970, 1, 1)).days


def date_of(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


def ts_of_local(day: np.ndarray | int, seconds: np.ndarray | int) -> np.ndarray:
    """UTC epoch seconds of a JST local date + seconds after local midnight."""
    return np.asarray(day, dtype=np.int64) * DAY + np.asarray(seconds, dtype=np.int64) - JST_OFFSET


def local_day(ts: np.ndarray) -> np.ndarray:
    """The JST calendar day (days since epoch) of UTC instants."""
    return (np.asarray(ts, dtype=np.int64) + JST_OFFSET) // DAY


def month_index(day: np.ndarray | int) -> np.ndarray:
    """Months since 1970-01 of local days (a monotone month counter)."""
    return np.asarray(day, dtype="int64").astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_start_day(month: np.ndarray | int) -> np.ndarray:
    """First local day of a month counter."""
    return np.asarray(month, dtype="int64").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def calendar_month(day: np.ndarray) -> np.ndarray:
    """Calendar month 1-12 of local days."""
    return month_index(day) % 12 + 1


def add_months(day: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Same day-of-month ``months`` later, clipped to the month's last day (contract terms)."""
    day = np.asarray(day, dtype=np.int64)
    m = month_index(day)
    dom = day - month_start_day(m)
    target = m + np.asarray(months, dtype=np.int64)
    first = month_start_day(target)
    length = month_start_day(target + 1) - first
    return first + np.minimum(dom, length - 1)


def business_seconds(rng: np.random.Generator, n: int, start_h: float = 9.0,
                     end_h: float = 18.5) -> np.ndarray:
    """Seconds after local midnight during office hours (people work 9:00-18:30)."""
    return (rng.uniform(start_h, end_h, n) * 3600).astype(np.int64)


def to_weekday(day: np.ndarray) -> np.ndarray:
    """Move Saturday/Sunday to the following Monday (invoices and mail go out on weekdays)."""
    day = np.asarray(day, dtype=np.int64)
    wd = (day + 3) % 7  # 1970-01-01 was a Thursday: Monday = 0
    return day + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))


def seasonal_days(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """One day per row in [lo, hi], weighted by the purchase season of its month.

    Rejection sampling, vectorized: draw uniformly, keep with probability
    season/max(season), redraw the rejected rows. A handful of rounds suffice.
    """
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    out = np.empty(lo.shape, dtype=np.int64)
    todo = np.arange(lo.size)
    wmax = SEASON.max()
    for _ in range(60):
        if todo.size == 0:
            break
        cand = lo[todo] + (rng.random(todo.size) * (hi[todo] - lo[todo] + 1)).astype(np.int64)
        keep = rng.random(todo.size) < SEASON[calendar_month(cand)] / wmax
        out[todo[keep]] = cand[keep]
        todo = todo[~keep]
    if todo.size:
        out[todo] = lo[todo]
    return out
