"""The table glue of the CLV step (upsell.clv_marts): units, degraded fits, NULLs."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from upsell import clv
from upsell.clv_marts import PARAM_COLUMNS, PREDICTION_COLUMNS, fit_models, score_customers

AS_OF = date(2026, 10, 31)
TRUE = clv.BgNbdParams(r=0.8, alpha=40.0, a=0.9, b=3.0)


def summary(n: int = 4000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 700, n).astype(float)
    x, t_x, _, _ = clv.simulate_bgnbd(TRUE, T, rng)
    m = np.where(x > 0, rng.gamma(5.0, 2000.0, n), 0.0)
    return pd.DataFrame({"account_id": [f"A{i}" for i in range(n)], "as_of_date": AS_OF, "clv_frequency": x,
                         "clv_recency_days": np.floor(t_x), "clv_t_days": T, "clv_monetary_value_jpy": m})


def test_fit_rows_per_parameter_with_units():
    fits = fit_models(summary(), time_unit="week")
    assert list(fits.columns) == PARAM_COLUMNS
    assert set(zip(fits.model, fits.parameter, strict=True)) == {
        ("bg_nbd", "r"), ("bg_nbd", "alpha"), ("bg_nbd", "a"), ("bg_nbd", "b"), ("gamma_gamma", "p"),
        ("gamma_gamma", "q"), ("gamma_gamma", "gamma"), ("gamma_gamma", "frequency_monetary_correlation")}
    assert set(fits.time_unit) == {"week"} and set(fits.as_of_date) == {AS_OF}
    by = fits.set_index(["model", "parameter"])
    # alpha in weeks: about the true 40 days / 7
    assert by.loc[("bg_nbd", "alpha"), "value"] == pytest.approx(40 / 7, rel=0.25)
    s = summary()
    assert by.loc[("gamma_gamma", "p"), "customers"] == int(((s.clv_frequency > 0)).sum())
    assert by.loc[("bg_nbd", "r"), "customers"] == len(s)


def test_predictions_do_not_depend_on_the_time_unit():
    s = summary()
    days = score_customers(s, fit_models(s, time_unit="day"))
    weeks = score_customers(s, fit_models(s, time_unit="week"))
    assert list(days.columns) == PREDICTION_COLUMNS
    assert days.expected_purchases_365d.to_numpy() == pytest.approx(weeks.expected_purchases_365d.to_numpy(),
                                                                    rel=1e-3)
    assert days.predicted_clv_365d_jpy.notna().all()


def test_horizon_and_discount_vars():
    s = summary()
    fits = fit_models(s)
    year = score_customers(s, fits, horizon_days=365, monthly_discount_rate=0.0)
    half = score_customers(s, fits, horizon_days=182, monthly_discount_rate=0.0)
    discounted = score_customers(s, fits, horizon_days=365, monthly_discount_rate=0.02)
    assert (half.expected_purchases_365d < year.expected_purchases_365d).all()
    assert set(half.horizon_days) == {182}
    assert (discounted.predicted_clv_365d_jpy < year.predicted_clv_365d_jpy).all()
    undiscounted = year.expected_purchases_365d * year.expected_avg_purchase_value_jpy
    assert year.predicted_clv_365d_jpy.to_numpy() == pytest.approx(undiscounted.to_numpy(), rel=1e-9)


def test_no_repeat_customer_leaves_both_models_null_and_the_run_going():
    s = summary()
    s["clv_frequency"] = 0
    s["clv_recency_days"] = 0
    s["clv_monetary_value_jpy"] = 0.0
    fits = fit_models(s)
    gg = fits[fits.model == "gamma_gamma"]
    assert gg.value.isna().all() and set(gg.customers) == {0}
    # nobody repeated: BG/NBD's dropout (a, b) is not identified either
    assert fits[fits.model == "bg_nbd"].value.isna().all()
    scored = score_customers(s, fits)
    assert scored[["probability_alive", "expected_avg_purchase_value_jpy", "predicted_clv_365d_jpy"]].isna().all().all()


def test_customers_all_bought_on_the_as_of_date_leave_bg_nbd_null():
    s = summary(50)
    s["clv_frequency"], s["clv_recency_days"], s["clv_t_days"], s["clv_monetary_value_jpy"] = 0, 0.0, 0.0, 0.0
    fits = fit_models(s)
    assert fits.value.isna().all()
    assert score_customers(s, fits)[["probability_alive", "predicted_clv_365d_jpy"]].isna().all().all()


def test_repeat_customer_with_non_positive_spend_gets_the_population_mean():
    s = summary()
    i = int(np.flatnonzero(s.clv_frequency.to_numpy() > 0)[0])
    s.loc[i, "clv_monetary_value_jpy"] = -500.0  # credit notes outweigh the repeat purchases
    fits = fit_models(s)
    by = fits.set_index(["model", "parameter"])["value"]
    population = by["gamma_gamma", "p"] * by["gamma_gamma", "gamma"] / (by["gamma_gamma", "q"] - 1)
    scored = score_customers(s, fits)
    assert scored.expected_avg_purchase_value_jpy[i] == pytest.approx(population)


def test_unknown_time_unit_is_a_clear_error():
    with pytest.raises(ValueError, match="clv_time_unit must be one of"):
        fit_models(summary(100), time_unit="fortnight")


def test_estimates_do_not_depend_on_the_row_order():
    s = summary()
    shuffled = s.sample(frac=1.0, random_state=3)
    a = fit_models(s).value.to_numpy()
    b = fit_models(shuffled).value.to_numpy()
    assert np.array_equal(a, b)


def test_scores_computed_per_distinct_triple_are_each_customers_own():
    """score_customers evaluates BG/NBD once per distinct (x, t_x, T) and gathers: every
    customer must still get the values of their own inputs, in their own row."""
    s = summary().sample(frac=1.0, random_state=5).reset_index(drop=True)  # customers in no particular order
    fits = fit_models(s)
    scored = score_customers(s, fits, horizon_days=365, monthly_discount_rate=0.01)
    by = fits.set_index(["model", "parameter"])["value"]
    bg = clv.BgNbdParams(*(float(by[("bg_nbd", p)]) for p in ("r", "alpha", "a", "b")))
    x, t_x, T = (s[c].to_numpy(float) for c in ("clv_frequency", "clv_recency_days", "clv_t_days"))
    assert len(np.unique(np.column_stack([x, t_x, T]), axis=0)) < len(s)  # triples are shared
    np.testing.assert_array_equal(scored.account_id, s.account_id)
    np.testing.assert_array_equal(scored.probability_alive, clv.probability_alive(bg, x, t_x, T))
    np.testing.assert_array_equal(scored.expected_purchases_365d, clv.expected_purchases(bg, 365, x, t_x, T))
    per_customer = clv.discounted_clv(bg, x, t_x, T, scored.expected_avg_purchase_value_jpy.to_numpy(), horizon=365,
                                      month=365.25 / 12, monthly_discount_rate=0.01)
    np.testing.assert_allclose(scored.predicted_clv_365d_jpy, per_customer, rtol=1e-14)
