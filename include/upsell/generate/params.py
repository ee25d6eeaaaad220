"""Scale presets and the per-account rates that size every dataset.

Every dataset grows linearly with the number of accounts, so the size of a scale is
``accounts x rate``; the rates below are calibrated on generated data (see the S test,
which checks real counts against :func:`expected_sizes`). That lets tests check M and L
cheaply, without generating them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScaleParams:
    name: str
    accounts: int
    email_rows_per_part: int  # email_events part files roll over at this many rows
    invoice_rows_per_file: int  # a fiscal year's invoices split into parts above this
    slice_rows: int = 500_000  # rows formatted at once (bounds memory)


SCALES: dict[str, ScaleParams] = {
    "S": ScaleParams("S", 1_200, 40_000, 1_000_000),
    "M": ScaleParams("M", 50_000, 1_250_000, 1_000_000),
    "L": ScaleParams("L", 500_000, 2_500_000, 1_500_000),
}

# Rows per account over the default range (2023-04-01 .. 2026-10-31), measured.
ROWS_PER_ACCOUNT: dict[str, float] = {
    "accounts": 1.0,
    "contacts": 3.0,
    "invoices": 20.0,
    "email_events": 100.0,
}

# Targets from the brief, per scale (what "roughly right" is measured against).
TARGETS: dict[str, dict[str, int]] = {
    "S": {"accounts": 1_000},
    "M": {"accounts": 50_000, "invoices": 1_000_000, "email_events": 5_000_000},
    "L": {"accounts": 500_000, "invoices": 10_000_000, "email_events": 50_000_000},
}


def scale_params(scale: str) -> ScaleParams:
    try:
        return SCALES[scale.upper()]
    except KeyError:
        raise ValueError(f"unknown scale {scale!r}: expected one of {sorted(SCALES)}") from None


def expected_sizes(scale: str) -> dict[str, int]:
    """Expected row counts of the big datasets at a scale, without generating anything."""
    p = scale_params(scale)
    return {k: round(p.accounts * v) for k, v in ROWS_PER_ACCOUNT.items()}
