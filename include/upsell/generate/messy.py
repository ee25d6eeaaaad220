"""Injected faults: exact duplicate rows and bad rows of one known kind each.

Bad rows are *extra* copies of a good row with a fresh key (or an empty one) and one
field broken, so they never change what a correct loader ends up with; ingestion must
quarantine them, and the manifest records the physical line each one starts on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from upsell.generate.schema import DATASETS

BAD_KINDS = ("bad_date", "missing_key", "unknown_enum", "bad_number", "wrong_column_count")


@dataclass(frozen=True)
class Target:
    """Which column each kind of fault breaks in a dataset."""

    key: str  # emptied for missing_key; suffixed (fresh) for the other kinds
    date: str  # a date or timestamp column that must parse
    enum: tuple[str, str] | None = None  # (column, value outside the enum)
    number: str | None = None  # a numeric column


TARGETS: dict[str, Target] = {
    "accounts": Target("account_id", "updated_at", None, "employee_count"),
    "contacts": Target("contact_id", "created_at", None, None),
    "leads": Target("lead_id", "created_at", ("lead_type", "referral")),
    "deals": Target("deal_id", "created_at", ("stage", "closed-ish"), "amount_jpy"),
    "activities": Target("activity_id", "occurred_at", ("activity_type", "visit")),
    "nps_responses": Target("response_id", "responded_at", None, "score"),
    "invoices": Target("invoice_id", "invoice_date", ("status", "pending"), "amount_jpy"),
    "subscriptions": Target("subscription_id", "start_date", ("status", "paused"), "mrr_jpy"),
    "email_events": Target("event_id", "occurred_at", ("event_type", "forwarded"), "step"),
    "dm_sends": Target("account_id", "sent_at", ("address_status", "returned")),
    "seminar_attendance": Target("contact_email", "registered_at", None, "feedback_score"),
}

BAD_DATES = ("2025-13-45", "2025/4/31", "2026-02-30")
BAD_TIMESTAMPS = ("2025-13-45 10:00:00", "2026-02-30T10:00:00+09:00", "2025/4/31 9:05")
BAD_NUMBERS = ("12x3", "1,2a4", "--5")


@dataclass(frozen=True)
class Injection:
    """Faults to inject into one chunk of one file."""

    duplicates: int = 0  # extra copies of good rows (with >= 3, one row appears 3 times)
    bad: tuple[str, ...] = ()  # one bad row per kind listed


def corrupt(dataset: str, fields: dict[str, str], kind: str, k: int) -> list[str]:
    """The cells of a bad row built from a good row's cells (canonical column order)."""
    if kind not in BAD_KINDS:
        raise ValueError(f"unknown bad-row kind {kind!r}")
    t = TARGETS[dataset]
    row = dict(fields)
    if kind == "missing_key":
        row[t.key] = ""
    else:
        row[t.key] = f"{row[t.key]}-Q{k}" if row[t.key] else f"Q{k}"
    types = {c.name: c.type for c in DATASETS[dataset]}
    if kind == "bad_date":
        pool = BAD_DATES if types[t.date] == "date" else BAD_TIMESTAMPS
        row[t.date] = pool[k % len(pool)]
    elif kind == "unknown_enum":
        if t.enum is None:
            raise ValueError(f"{dataset} has no enum column to break")
        row[t.enum[0]] = t.enum[1]
    elif kind == "bad_number":
        if t.number is None:
            raise ValueError(f"{dataset} has no numeric column to break")
        row[t.number] = BAD_NUMBERS[k % len(BAD_NUMBERS)]
    cells = [row[c.name] for c in DATASETS[dataset]]
    if kind == "wrong_column_count":
        cells.append("余分な列")
    return cells


def plan_chunk(rng: np.random.Generator, n: int, eligible: np.ndarray,
               inj: Injection) -> tuple[list[int], list[int], list[int], list[int], Injection]:
    """Choose sources and insert positions.

    Returns (dup_sources, dup_positions, bad_sources, bad_positions, the injection actually
    placed); a position p means "insert before original row p" (p == n appends). Duplicates land shortly after their
    source, like a page exported twice; bad rows land anywhere.
    """
    pool = np.flatnonzero(eligible)
    # a tiny chunk (short custom ranges) takes what it can: bad rows first, then copies
    bad = tuple(inj.bad[: pool.size])
    dups = min(inj.duplicates, max(pool.size - len(bad), 0))
    inj = Injection(duplicates=dups, bad=bad)
    need_src = (inj.duplicates - 1 if inj.duplicates >= 3 else inj.duplicates) + len(inj.bad)
    chosen = rng.choice(pool, size=need_src, replace=False) if need_src else np.array([], int)
    chosen = [int(x) for x in chosen]
    n_dup_src = need_src - len(inj.bad)
    dup_src = chosen[:n_dup_src]
    if inj.duplicates >= 3:
        dup_src = [dup_src[0]] + dup_src  # the first one appears three times
    bad_src = chosen[n_dup_src:]
    dup_pos = [min(n, s + 1 + int(rng.integers(0, 40))) for s in dup_src]
    bad_pos = [int(rng.integers(0, n + 1)) for _ in bad_src]
    return dup_src, dup_pos, bad_src, bad_pos, inj
