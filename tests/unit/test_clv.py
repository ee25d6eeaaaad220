"""The CLV math (upsell.clv) against the generative processes it describes.

Expected values come from independent computations: numerical integration of the
individual-level likelihoods over the mixing distributions, or simulation of the BG/NBD and
Gamma-Gamma processes with known parameters. The published CDNOW estimates are checked
end to end through the pipeline in tests/integration/test_clv_cdnow.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

from upsell import clv

TRUE = clv.BgNbdParams(r=0.6, alpha=20.0, a=0.8, b=2.5)  # alpha in days


def simulated(n: int, seed: int = 7, future: float = 0.0):
    rng = np.random.default_rng(seed)
    T = rng.integers(30, 720, n).astype(float)
    return (T, *clv.simulate_bgnbd(TRUE, T, rng, future=future))


def test_bgnbd_likelihood_matches_numerical_integration_over_lambda_and_p():
    """eq. 6 is the individual likelihood integrated over Gamma(r, alpha) x Beta(a, b)
    (Simpson's rule on a fine grid; smooth integrands for these parameters)."""
    params = clv.BgNbdParams(r=2.0, alpha=5.0, a=2.0, b=3.0)
    lam = np.linspace(0, 30, 3001)[:, None]
    p = np.linspace(0, 1, 1001)[None, :]
    prior = stats.gamma.pdf(lam, params.r, scale=1 / params.alpha) * stats.beta.pdf(p, params.a, params.b)
    for x, t_x, T in [(0, 0.0, 10.0), (1, 3.0, 10.0), (4, 9.5, 12.0)]:
        alive = (1 - p) ** x * lam ** x * np.exp(-lam * T)
        dead = p * (1 - p) ** max(x - 1, 0) * lam ** x * np.exp(-lam * t_x) if x > 0 else 0.0
        expected = integrate.simpson(integrate.simpson((alive + dead) * prior, x=p[0], axis=1), x=lam[:, 0])
        got = np.exp(clv.bgnbd_log_likelihood(params, [x], [t_x], [T]))[0]
        assert got == pytest.approx(expected, rel=1e-4)  # the grid's own error is ~1e-5


def test_bgnbd_likelihood_stays_finite_for_heavy_buyers_with_long_histories():
    params = clv.BgNbdParams(r=0.25, alpha=4.4, a=0.8, b=2.4)
    ll = clv.bgnbd_log_likelihood(params, [5000, 0], [9000.0, 0.0], [9125.0, 20000.0])
    assert np.all(np.isfinite(ll))


def test_gamma_gamma_likelihood_matches_numerical_integration_over_nu():
    params = clv.GammaGammaParams(p=3.0, q=4.0, gamma=20.0)
    for x, m in [(1, 12.0), (3, 7.5), (10, 30.0)]:
        def individual(nu, x=x, m=m):
            # the mean of x Gamma(p, nu) values is Gamma(p x, nu x)
            return stats.gamma.pdf(m, params.p * x, scale=1 / (nu * x)) \
                * stats.gamma.pdf(nu, params.q, scale=1 / params.gamma)

        expected, _ = integrate.quad(individual, 0, np.inf, epsabs=1e-14)
        got = np.exp(clv.gamma_gamma_log_likelihood(params, [x], [m]))[0]
        assert got == pytest.approx(expected, rel=1e-6)


def test_bgnbd_fit_recovers_the_parameters_of_simulated_customers():
    T, x, t_x, _, _ = simulated(40_000)
    fit = clv.fit_bgnbd(x, t_x, T)
    assert fit.customers == 40_000
    for name, tolerance in (("r", 0.1), ("alpha", 0.1), ("a", 0.15), ("b", 0.15)):
        assert getattr(fit.params, name) == pytest.approx(getattr(TRUE, name), rel=tolerance), name


def test_time_unit_scales_alpha_only():
    T, x, t_x, _, _ = simulated(5_000)
    days = clv.fit_bgnbd(x, t_x, T).params
    weeks = clv.fit_bgnbd(x, t_x / 7, T / 7).params
    assert weeks.alpha == pytest.approx(days.alpha / 7, rel=1e-4)
    for name in ("r", "a", "b"):
        assert getattr(weeks, name) == pytest.approx(getattr(days, name), rel=1e-4)


def test_probability_alive_averages_to_the_share_alive():
    """E[P(alive | data)] over customers = P(alive): the posterior is calibrated."""
    T, x, t_x, alive, _ = simulated(60_000, seed=11)
    p_alive = clv.probability_alive(TRUE, x, t_x, T)
    assert np.all((p_alive > 0) & (p_alive <= 1))
    assert np.all(p_alive[x == 0] == 1)
    assert p_alive.mean() == pytest.approx(alive.mean(), abs=0.01)
    # among repeat buyers, a long silence since the last purchase means less likely alive
    repeat = x > 0
    silence = (T - t_x)[repeat]
    assert p_alive[repeat][silence > 300].mean() < p_alive[repeat][silence < 30].mean()


def test_conditional_expected_purchases_match_simulated_future_purchases():
    horizon = 365.0
    T, x, t_x, _, y = simulated(60_000, seed=3, future=horizon)
    expected = clv.expected_purchases(TRUE, horizon, x, t_x, T)
    assert expected.sum() == pytest.approx(y.sum(), rel=0.03)
    # and per frequency group, not only in total
    for group in (x == 0, (x >= 1) & (x <= 3), x > 3):
        assert expected[group].sum() == pytest.approx(y[group].sum(), rel=0.06)


def test_new_customer_expectation_is_the_unconditional_one_and_matches_simulation():
    t = 200.0
    at_zero = clv.expected_purchases(TRUE, t, [0], [0.0], [0.0])[0]
    assert at_zero == pytest.approx(clv.expected_purchases_new_customer(TRUE, t), rel=1e-9)
    rng = np.random.default_rng(5)
    x, _, _, _ = clv.simulate_bgnbd(TRUE, np.full(100_000, t), rng)
    assert x.mean() == pytest.approx(at_zero, rel=0.03)


def test_gamma_gamma_fit_and_conditional_spend_on_simulated_customers():
    rng = np.random.default_rng(9)
    truth = clv.GammaGammaParams(p=6.0, q=4.0, gamma=15.0)
    n = 30_000
    x = rng.integers(1, 8, n)
    nu = rng.gamma(truth.q, 1 / truth.gamma, n)
    m = rng.gamma(truth.p * x, 1 / (nu * x))
    fit = clv.fit_gamma_gamma(x, m)
    for name in ("p", "q", "gamma"):
        assert getattr(fit.params, name) == pytest.approx(getattr(truth, name), rel=0.1), name
    # E[spend per purchase | x, m] is the posterior mean of p / nu: calibrated on average
    conditional = clv.expected_average_value(truth, x, m)
    assert conditional.mean() == pytest.approx((truth.p / nu).mean(), rel=0.02)
    # shrinkage: between the customer's own mean and the population mean p gamma / (q - 1)
    population = truth.p * truth.gamma / (truth.q - 1)
    assert np.all((conditional - m) * (conditional - population) <= 1e-9)
    assert clv.expected_average_value(truth, [0], [0.0])[0] == pytest.approx(population)
    assert abs(clv.frequency_monetary_correlation(x, m)) < 0.05


def test_currency_unit_scales_gamma_only():
    rng = np.random.default_rng(2)
    x = rng.integers(1, 6, 3_000)
    m = rng.gamma(6 * x, 1 / (rng.gamma(4, 1 / 15, 3_000) * x))
    dollars = clv.fit_gamma_gamma(x, m).params
    cents = clv.fit_gamma_gamma(x, m * 100).params
    assert cents.gamma == pytest.approx(dollars.gamma * 100, rel=1e-4)
    assert cents.p == pytest.approx(dollars.p, rel=1e-4)
    assert cents.q == pytest.approx(dollars.q, rel=1e-4)


def test_l2_penalty_shrinks_log_parameters():
    T, x, t_x, _, _ = simulated(3_000)
    T, t_x = T / 30, t_x / 30  # months: alpha near 1, so the penalty's pull is visible on every parameter
    plain = clv.fit_bgnbd(x, t_x, T)
    penalised = clv.fit_bgnbd(x, t_x, T, l2_penalty=0.1)
    size = lambda p: float(np.sum(np.log([p.r, p.alpha, p.a, p.b]) ** 2))  # noqa: E731
    assert size(penalised.params) < size(plain.params)
    assert penalised.log_likelihood < plain.log_likelihood


def test_discounted_clv():
    T, x, t_x, _, _ = simulated(2_000)
    gg = clv.GammaGammaParams(p=6.0, q=4.0, gamma=15.0)
    m = np.where(x > 0, 20.0, 0.0)
    month = 365.25 / 12
    value = clv.expected_average_value(gg, x, m)
    undiscounted = clv.discounted_clv(TRUE, x, t_x, T, value, horizon=365, month=month, monthly_discount_rate=0)
    purchases = clv.expected_purchases(TRUE, 365, x, t_x, T)
    assert undiscounted == pytest.approx(purchases * value, rel=1e-9)
    discounted = clv.discounted_clv(TRUE, x, t_x, T, value, horizon=365, month=month, monthly_discount_rate=0.01)
    assert np.all(discounted < undiscounted)
    # month k is discounted by 1.01**k, so the total lies between the first and the last factor
    assert np.all(discounted >= undiscounted / 1.01 ** 12 - 1e-9)
    assert np.all(discounted <= undiscounted / 1.01 + 1e-9)


def test_expectations_are_continuous_across_a_equal_one():
    """eq. 9/10 divide by a - 1; the limit at a = 1 is finite and the functions are smooth."""
    near = [clv.expected_purchases(clv.BgNbdParams(0.6, 20.0, a, 2.5), 100.0, [0, 3], [0.0, 50.0], [80.0, 80.0])
            for a in (0.99, 1.0, 1.01)]
    assert np.all(np.isfinite(near[1]))
    assert near[1] == pytest.approx((near[0] + near[2]) / 2, rel=1e-3)
    one = clv.BgNbdParams(0.6, 20.0, 1.0, 2.5)
    at_one = clv.expected_purchases_new_customer(one, 100.0)
    assert at_one == pytest.approx(clv.expected_purchases(one, 100.0, [0], [0.0], [0.0])[0], rel=1e-9)


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="t_x <= T"):
        clv.fit_bgnbd([1], [5.0], [3.0])
    with pytest.raises(ValueError, match="differ in length"):
        clv.fit_bgnbd([1, 2], [1.0], [3.0])
    with pytest.raises(clv.ClvFitError, match="no customers"):
        clv.fit_bgnbd([], [], [])
    with pytest.raises(clv.ClvFitError, match="not identified"):
        clv.fit_bgnbd([0, 0], [0.0, 0.0], [10.0, 20.0])
    with pytest.raises(clv.ClvFitError, match="no repeat customers"):
        clv.fit_gamma_gamma([], [])
    with pytest.raises(ValueError, match="positive"):
        clv.fit_gamma_gamma([1, 2], [10.0, 0.0])


def test_heavy_tailed_spend_has_no_population_mean_but_repeat_customers_keep_theirs():
    heavy = clv.GammaGammaParams(p=1.0, q=0.9, gamma=10.0)  # q <= 1: infinite population mean
    value = clv.expected_average_value(heavy, [0, 1, 3], [0.0, 20.0, 5.0])
    assert np.isnan(value[0])
    assert value[1:] == pytest.approx([1.0 * (10 + 20) / 0.9, 1.0 * (10 + 15) / 2.9])


def test_analytic_gradients_match_finite_differences():
    from scipy.optimize import approx_fprime

    x, t_x, T = np.array([0.0, 1, 4, 12]), np.array([0.0, 3, 9.5, 30]), np.array([10.0, 10, 12, 40])
    theta = np.log([0.7, 5.0, 1.3, 2.0])
    for i in range(x.size):
        f = lambda th: clv.bgnbd_log_likelihood(clv.BgNbdParams(*np.exp(th)), x[i:i + 1], t_x[i:i + 1], T[i:i + 1])[0]  # noqa: E731,B023
        numeric = approx_fprime(theta, f, 1e-7)
        analytic = clv.bgnbd_log_likelihood_gradient(clv.BgNbdParams(*np.exp(theta)), x[i:i + 1], t_x[i:i + 1],
                                                     T[i:i + 1])[:, 0]
        assert analytic == pytest.approx(numeric, rel=1e-4, abs=1e-6)
    xs, ms = np.array([1.0, 3, 10]), np.array([12.0, 7.5, 30])
    theta = np.log([3.0, 4.0, 20.0])
    for i in range(xs.size):
        g = lambda th: clv.gamma_gamma_log_likelihood(clv.GammaGammaParams(*np.exp(th)), xs[i:i + 1], ms[i:i + 1])[0]  # noqa: E731,B023
        numeric = approx_fprime(theta, g, 1e-7)
        analytic = clv.gamma_gamma_log_likelihood_gradient(clv.GammaGammaParams(*np.exp(theta)), xs[i:i + 1],
                                                           ms[i:i + 1])[:, 0]
        assert analytic == pytest.approx(numeric, rel=1e-4, abs=1e-6)


def test_no_dropout_heterogeneity_still_fits():
    """Every customer with the same dropout probability: a and b run off to infinity at a
    fixed a / (a + b); the fit still ends, with that ratio, instead of failing the night."""
    rng = np.random.default_rng(4)
    same_p = clv.BgNbdParams(r=2.0, alpha=60.0, a=2e4, b=2e6)  # p = 0.0099 for everyone
    T = rng.integers(30, 1000, 3000).astype(float)
    x, t_x, _, _ = clv.simulate_bgnbd(same_p, T, rng)
    fit = clv.fit_bgnbd(x, np.floor(t_x), T)
    assert fit.params.a > 50 and fit.params.b > 50
    assert fit.params.a / (fit.params.a + fit.params.b) == pytest.approx(0.0099, rel=0.5)
    assert np.all(np.isfinite(clv.expected_purchases(fit.params, 365, x, np.floor(t_x), T)))


@pytest.mark.parametrize(("gradient", "path"), [(5e-5, "accepted"), (5e-4, "polishing with Nelder-Mead")])
def test_a_line_search_stall_is_accepted_below_the_gradient_tolerance_only(caplog, gradient, path):
    """The rule itself, on an objective where L-BFGS-B's line search must fail whatever the
    machine's floating point: a sharp minimum at the start, reported with a small gradient
    that promises a descent the line search never finds. Below GRADIENT_TOLERANCE (1e-4) the
    stop is accepted; above it Nelder-Mead polishes."""
    def objective(theta):
        return 1.0 + 1e3 * float(np.sum(np.abs(theta))), np.full_like(theta, gradient)

    with caplog.at_level(logging.INFO, logger="upsell.clv"):
        result = clv._minimise(objective, np.zeros(2), "flat")
    assert result.success
    assert path in caplog.text
    assert ("Nelder-Mead" in caplog.text) == (gradient > clv.GRADIENT_TOLERANCE)


def test_a_fit_on_the_ridge_needs_no_nelder_mead(caplog):
    """No heterogeneity in dropout (a, b huge at a fixed ratio), 3,000 simulated customers.
    Depending on the machine's floating-point kernels, L-BFGS-B either converges or its line
    search stalls with a gradient of ≈ 2.5e-5 (the L sample stalled at 2.2e-5 and Nelder-Mead
    then ran for 20 minutes), which is accepted (the rule: the test above). Either way there
    is no Nelder-Mead, and going further along the ridge gains nothing worth having."""
    rng = np.random.default_rng(0)
    same_p = clv.BgNbdParams(r=2.0, alpha=60.0, a=2e4, b=2e6)
    T = rng.integers(30, 1000, 3000).astype(float)
    x, t_x, _, _ = clv.simulate_bgnbd(same_p, T, rng)
    t_x = np.floor(t_x)
    with caplog.at_level(logging.INFO, logger="upsell.clv"):
        fit = clv.fit_bgnbd(x, t_x, T)
    assert "Nelder-Mead" not in caplog.text
    assert fit.params.a > 1000 and fit.params.b > 1000
    expected = clv.expected_purchases(fit.params, 365, x, t_x, T)
    further = clv.BgNbdParams(fit.params.r, fit.params.alpha, fit.params.a * 10, fit.params.b * 10)
    assert np.sum(clv.bgnbd_log_likelihood(further, x, t_x, T)) < fit.log_likelihood + 0.01
    assert clv.expected_purchases(further, 365, x, t_x, T) == pytest.approx(expected, rel=1e-4)


def test_a_line_search_stalled_on_the_flat_ridge_is_accepted_not_polished_for_ever():
    """The bundled sample's second night (the generator's next day): L-BFGS-B's line search
    stalls where a and b grow together (gradient ~1e-6) and Nelder-Mead then crawled along
    the ridge for 20,000 iterations (27 s) and gave up, leaving the night without CLV. The
    flat stop is an optimum: it is accepted."""
    data = np.loadtxt(Path(__file__).resolve().parents[1] / "fixtures" / "clv" / "bgnbd_flat_ridge.csv",
                      delimiter=",", skiprows=1)
    x, t_x, T = data[:, 0], data[:, 1], data[:, 2]
    fit = clv.fit_bgnbd(x, t_x, T)
    assert fit.iterations < 1000  # L-BFGS-B's own steps, no Nelder-Mead
    # on the ridge: a and b both huge (no heterogeneity in dropout), a small common dropout p
    assert fit.params.a > 1000 and fit.params.b > 1000
    assert fit.params.a / (fit.params.a + fit.params.b) < 0.05
    assert np.all(np.isfinite(clv.expected_purchases(fit.params, 365, x, t_x, T)))
    # no better point nearby: moving along the ridge or off it does not raise the likelihood
    ll = fit.log_likelihood
    for factor in (0.5, 2.0):
        on_ridge = clv.BgNbdParams(fit.params.r, fit.params.alpha, fit.params.a * factor, fit.params.b * factor)
        assert np.sum(clv.bgnbd_log_likelihood(on_ridge, x, t_x, T)) <= ll + 1e-3
        off = clv.BgNbdParams(fit.params.r * factor, fit.params.alpha, fit.params.a, fit.params.b)
        assert np.sum(clv.bgnbd_log_likelihood(off, x, t_x, T)) < ll


@pytest.mark.parametrize("n", [0, 1, 5_000])
def test_distinct_customers_are_numpys_unique_rows_in_its_order(n):
    """The fit's weighted sums add up in the order of the triples: it must be
    ``np.unique(axis=0)``'s, and every customer must point at their own triple."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, n).astype(float)
    t_x = np.where(x > 0, rng.integers(0, 10, n), 0).astype(float)
    T = t_x + rng.integers(0, 10, n)
    (ux, utx, uT), counts, inverse = clv.distinct_customers(x, t_x, T)
    rows = np.column_stack([x, t_x, T])
    expected, expected_counts = np.unique(rows, axis=0, return_counts=True)
    np.testing.assert_array_equal(np.column_stack([ux, utx, uT]), expected)
    np.testing.assert_array_equal(counts, expected_counts)
    np.testing.assert_array_equal(np.column_stack([ux, utx, uT])[inverse], rows)
    if n > 100:
        assert len(ux) < n / 2  # the sample shares triples, so the check above is not vacuous


def test_shared_dropout_odds_give_the_same_expectations_and_are_not_used_near_a_equal_one():
    T, x, t_x, _, _ = simulated(1_000)
    odds = clv._dropout_odds(TRUE, x, t_x, T)
    np.testing.assert_array_equal(clv.expected_purchases(TRUE, 90, x, t_x, T, dropout_odds=odds),
                                  clv.expected_purchases(TRUE, 90, x, t_x, T))
    near_one = clv.BgNbdParams(TRUE.r, TRUE.alpha, 1.0 + clv.A_NEAR_ONE / 2, TRUE.b)
    wrong = np.zeros_like(odds)  # odds of other parameters: must not be used on either side of a = 1
    np.testing.assert_array_equal(clv.expected_purchases(near_one, 90, x, t_x, T, dropout_odds=wrong),
                                  clv.expected_purchases(near_one, 90, x, t_x, T))
