"""Table-in, table-out glue between the warehouse and :mod:`upsell.clv`.

The dbt Python models ``int_clv_model_fits`` and ``int_customer_clv_scored`` are two-line
wrappers around :func:`fit_models` and :func:`score_customers`, so the whole step is
testable without dbt. Input: one row per customer with the ``clv_*`` columns of
``int_customer_purchase_summary`` (lifetimes' ``summary_data_from_transaction_data``
semantics, ages in days, money in JPY).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from upsell import clv

log = logging.getLogger(__name__)

# the model time unit: BG/NBD's alpha is reported in it (r, a, b do not depend on it)
TIME_UNITS_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
MONTH_DAYS = 365.25 / 12  # discounting period of the CLV (a calendar month on average)

BGNBD, GAMMA_GAMMA = "bg_nbd", "gamma_gamma"
PARAM_COLUMNS = ["model", "parameter", "value", "log_likelihood", "customers", "as_of_date", "time_unit",
                 "currency"]
PREDICTION_COLUMNS = ["account_id", "as_of_date", "probability_alive", "expected_purchases_365d",
                      "expected_avg_purchase_value_jpy", "predicted_clv_365d_jpy", "horizon_days"]


def time_unit_days(time_unit: str) -> float:
    try:
        return TIME_UNITS_DAYS[time_unit]
    except KeyError:
        raise ValueError(f"clv_time_unit must be one of {sorted(TIME_UNITS_DAYS)}, got {time_unit!r}") from None


def _inputs(summary: pd.DataFrame, unit_days: float):
    x = summary["clv_frequency"].to_numpy(dtype=float)
    t_x = summary["clv_recency_days"].to_numpy(dtype=float) / unit_days
    T = summary["clv_t_days"].to_numpy(dtype=float) / unit_days
    m = summary["clv_monetary_value_jpy"].to_numpy(dtype=float)
    return x, t_x, T, m


def _as_of(summary: pd.DataFrame):
    dates = summary["as_of_date"].dropna().unique()
    if len(dates) > 1:
        raise ValueError(f"customers from {len(dates)} as-of dates in one fit")
    return dates[0] if len(dates) else None


def fit_models(summary: pd.DataFrame, time_unit: str = "day", l2_penalty: float = 0.0) -> pd.DataFrame:
    """Fit BG/NBD on every customer and Gamma-Gamma on repeat customers (x > 0) with a
    positive mean repeat spend; one row per parameter.

    Gamma-Gamma also reports ``frequency_monetary_correlation`` (its value column; the model
    assumes it is near 0). A model that cannot be fitted (no customers, nobody older than
    a day, no repeat customer) gets its parameter rows with value NULL and a warning in the
    log: the nightly run goes on, and the predictions are NULL.
    """
    unit_days = time_unit_days(time_unit)
    # a fixed order: floating-point sums (and so the optimiser's path) depend on it, and the
    # warehouse returns rows in any order; re-runs and backfills must give the same estimates
    summary = summary.sort_values("account_id", kind="stable")
    x, t_x, T, m = _inputs(summary, unit_days)
    as_of = _as_of(summary)
    rows: list[dict] = []

    def add(model: str, values: dict[str, float | None], fit: clv.FitResult | None, customers: int) -> None:
        for name, value in values.items():
            rows.append({"model": model, "parameter": name, "value": value,
                         "log_likelihood": fit.log_likelihood if fit else None, "customers": customers,
                         "as_of_date": as_of, "time_unit": time_unit, "currency": "JPY"})

    try:
        bg = clv.fit_bgnbd(x, t_x, T, l2_penalty=l2_penalty)
        add(BGNBD, {"r": bg.params.r, "alpha": bg.params.alpha, "a": bg.params.a, "b": bg.params.b}, bg, bg.customers)
    except clv.ClvFitError as exc:
        log.warning("BG/NBD not fitted: %s", exc)
        add(BGNBD, dict.fromkeys(("r", "alpha", "a", "b")), None, int(x.size))

    repeat = (x > 0) & (m > 0)
    correlation = clv.frequency_monetary_correlation(x[repeat], m[repeat])
    correlation = None if np.isnan(correlation) else correlation
    try:
        gg = clv.fit_gamma_gamma(x[repeat], m[repeat], l2_penalty=l2_penalty)
        add(GAMMA_GAMMA, {"p": gg.params.p, "q": gg.params.q, "gamma": gg.params.gamma,
                          "frequency_monetary_correlation": correlation}, gg, gg.customers)
        if correlation is not None and abs(correlation) > 0.3:
            log.warning("Gamma-Gamma assumes spend per purchase independent of frequency; the correlation "
                        "is %.2f in this data", correlation)
    except clv.ClvFitError as exc:
        log.warning("Gamma-Gamma not fitted: %s", exc)
        add(GAMMA_GAMMA, {"p": None, "q": None, "gamma": None, "frequency_monetary_correlation": correlation},
            None, int(repeat.sum()))
    return pd.DataFrame(rows, columns=PARAM_COLUMNS)


def _params(fits: pd.DataFrame, model: str, names: tuple[str, ...]) -> dict[str, float] | None:
    rows = fits[fits["model"] == model].set_index("parameter")["value"]
    values = {n: rows.get(n) for n in names}
    if any(v is None or pd.isna(v) for v in values.values()):
        return None
    return {n: float(v) for n, v in values.items()}


def score_customers(summary: pd.DataFrame, fits: pd.DataFrame, horizon_days: float = 365,
                    monthly_discount_rate: float = 0.01) -> pd.DataFrame:
    """Per customer: P(alive), expected purchases and spend per purchase over the horizon,
    and the discounted CLV (monthly discounting), from the parameters in ``fits``."""
    if not len(fits):
        raise ValueError("no fitted parameters")
    time_unit = str(fits["time_unit"].iloc[0])
    unit_days = time_unit_days(time_unit)
    x, t_x, T, m = _inputs(summary, unit_days)
    out = pd.DataFrame({"account_id": summary["account_id"].to_numpy(), "as_of_date": summary["as_of_date"].to_numpy()})
    bg_values = _params(fits, BGNBD, ("r", "alpha", "a", "b"))
    gg_values = _params(fits, GAMMA_GAMMA, ("p", "q", "gamma"))
    nothing = np.full(len(out), np.nan)
    horizon = horizon_days / unit_days
    if bg_values:
        bg = clv.BgNbdParams(**bg_values)
        # every BG/NBD quantity is computed once per distinct (x, t_x, T) and gathered: the
        # hypergeometric function of the 13 horizons (the year and its months) dominates scoring
        triples, _, customer_triple = clv.distinct_customers(x, t_x, T)
        out["probability_alive"] = clv.probability_alive(bg, *triples)[customer_triple]
        out["expected_purchases_365d"] = clv.expected_purchases(bg, horizon, *triples)[customer_triple]
    else:
        out["probability_alive"] = out["expected_purchases_365d"] = nothing
    gg = clv.GammaGammaParams(**gg_values) if gg_values else None
    if gg and gg.q <= 1:
        log.warning("Gamma-Gamma q = %.3f <= 1: spend is too heavy-tailed for a finite population mean; customers "
                    "without a repeat purchase get no expected spend or CLV (NULL)", gg.q)
    m_repeat = np.where(m > 0, m, 0.0)
    x_repeat = np.where(m > 0, x, 0.0)  # a repeat customer without positive spend: population mean
    out["expected_avg_purchase_value_jpy"] = clv.expected_average_value(gg, x_repeat, m_repeat) if gg else nothing
    if bg_values and gg:
        # clv.discounted_clv, with the discounted purchases of each distinct triple
        discounted = clv.discounted_purchases(bg, *triples, horizon=horizon, month=MONTH_DAYS / unit_days,
                                              monthly_discount_rate=monthly_discount_rate)
        out["predicted_clv_365d_jpy"] = discounted[customer_triple] * out["expected_avg_purchase_value_jpy"].to_numpy()
    else:
        out["predicted_clv_365d_jpy"] = nothing
    out["horizon_days"] = int(horizon_days)
    return out[PREDICTION_COLUMNS]
