"""Probabilistic customer lifetime value: BG/NBD and Gamma-Gamma, fitted by maximum likelihood.

Pure numpy/scipy, no I/O: the dbt Python models ``int_clv_model_fits`` and
``int_customer_clv_scored`` call it, and the unit tests check it against the models'
generative processes.

* BG/NBD — Fader, Hardie & Lee (2005), "Counting your customers the easy way: an
  alternative to the Pareto/NBD model", Marketing Science 24(2). While alive a customer buys
  at rate ``lambda ~ Gamma(r, alpha)``; after each purchase they drop out with probability
  ``p ~ Beta(a, b)``. Inputs per customer: ``x`` repeat purchases, ``t_x`` time of the last
  purchase and ``T`` age, both measured from the first purchase (any time unit: ``alpha``
  carries it, ``r``, ``a``, ``b`` are unit free).
* Gamma-Gamma — Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for
  customer base analysis", JMR 42(4); Fader & Hardie (2013), "The Gamma-Gamma model of
  monetary value". A customer's transaction values are Gamma(p, nu) with
  ``nu ~ Gamma(q, gamma)``; the observed mean ``m`` of ``x`` repeat transactions is
  Gamma(p x, nu x). ``gamma`` carries the currency unit. The model assumes spend per
  purchase is independent of purchase frequency: :func:`frequency_monetary_correlation`
  reports how weak that correlation is in the data fitted.

Every likelihood is evaluated in log space (``gammaln``/``betaln``, ``logaddexp``), and the
optimiser works on log parameters, so nothing overflows for customers with many purchases
or long histories and every parameter stays positive.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

ArrayLike = np.ndarray | list[float] | float

log = logging.getLogger(__name__)

LOG_BOX = 25.0  # each log parameter stays within start ± 25 (a factor of 7e10 either way)
# An L-BFGS-B stop whose gradient (of the mean log-likelihood per customer, in log
# parameters) is this flat everywhere is an optimum reached to floating-point precision:
# moving any parameter by a factor of e changes the likelihood by < 1e-4 nats a customer.
# Line searches stall on BG/NBD's a-b ridge with gradients up to ~3e-5 (the L sample: 2.2e-5
# with 447k customers, where Nelder-Mead then crawled 20 minutes for a 0.08-nat gain and
# predictions that moved by 4e-6; tests/unit/test_clv.py).
GRADIENT_TOLERANCE = 1e-4
A_NEAR_ONE = 1e-4  # |a - 1| below this: evaluate the closed forms on both sides of a = 1


class ClvFitError(RuntimeError):
    """The likelihood could not be maximised (no usable customers, or no convergence)."""


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters; ``alpha`` is in the time unit of ``t_x`` and ``T``."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters; ``gamma`` is in the currency unit of the monetary values."""

    p: float
    q: float
    gamma: float


@dataclass(frozen=True)
class FitResult:
    """A maximum-likelihood fit: parameters, the log-likelihood at them (without the L2
    penalty), the number of customers it used, and the optimiser's verdict."""

    params: BgNbdParams | GammaGammaParams
    log_likelihood: float
    customers: int
    iterations: int


# --------------------------------------------------------------------------- BG/NBD


def bgnbd_log_likelihood(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Per-customer log-likelihood, FHL (2005) eq. 6, in log space:

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + [x > 0] · B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    still_alive = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    repeat = x > 0
    # B(a+1, b+x-1) is only defined (and only needed) for x > 0
    dropped = np.where(repeat, betaln(a + 1, b + np.where(repeat, x, 1) - 1) - (r + x) * np.log(alpha + t_x),
                       -np.inf)
    return common + np.logaddexp(still_alive, dropped)


def bgnbd_log_likelihood_gradient(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
                                  ) -> np.ndarray:
    """d log-likelihood / d log(r, alpha, a, b), per customer (shape (4, n)): eq. 6
    differentiated by hand, so the optimiser needs one evaluation per step, not five."""
    return _bgnbd_value_and_gradient(params, np.asarray(x, float), np.asarray(t_x, float), np.asarray(T, float))[1]


def _bgnbd_value_and_gradient(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                              x_values: tuple[np.ndarray, np.ndarray] | None = None
                              ) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer log-likelihood and its gradient in one pass (they share every term).

    The gamma, beta and digamma functions of ``x`` dominate an evaluation; ``x`` (repeat
    purchases) takes few distinct values (68 among 447,256 customers at L scale), so they
    are computed once per distinct value and gathered (the same numbers, bit for bit).
    ``x_values`` = ``np.unique(x, return_inverse=True)``, made once per fit.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    xs, at = x_values if x_values is not None else np.unique(x, return_inverse=True)
    repeat_s = xs > 0
    safe_xs = np.where(repeat_s, xs, 1.0)
    repeat = repeat_s[at]
    log_alpha_T, log_alpha_tx = np.log(alpha + T), np.log(alpha + t_x)
    alive = betaln(a, b + xs)[at] - (r + x) * log_alpha_T
    dropped = np.where(repeat, betaln(a + 1, b + safe_xs - 1)[at] - (r + x) * log_alpha_tx, -np.inf)
    log_sum = np.logaddexp(alive, dropped)
    value = gammaln(r + xs)[at] - gammaln(r) + r * np.log(alpha) - betaln(a, b) + log_sum
    w_alive = np.exp(alive - log_sum)  # share of the "still alive" term
    w_dropped = 1.0 - w_alive
    psi_abx = digamma(a + b + xs)[at]
    psi_ab = digamma(a + b)
    d_r = (digamma(r + xs)[at] - digamma(r) + np.log(alpha) - w_alive * log_alpha_T
           - w_dropped * log_alpha_tx)
    d_alpha = r / alpha - (r + x) * (w_alive / (alpha + T) + w_dropped / (alpha + t_x))
    d_a = psi_ab - digamma(a) + w_alive * (digamma(a) - psi_abx) + w_dropped * (digamma(a + 1) - psi_abx)
    d_b = (psi_ab - digamma(b) + w_alive * (digamma(b + xs)[at] - psi_abx)
           + w_dropped * (digamma(b + safe_xs - 1)[at] - psi_abx))
    return value, np.vstack([r * d_r, alpha * d_alpha, a * d_a, b * d_b])


def fit_bgnbd(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, l2_penalty: float = 0.0,
              initial: BgNbdParams | None = None) -> FitResult:
    """Maximum-likelihood BG/NBD fit.

    Minimises ``−mean log-likelihood + l2_penalty · Σ log(θ)²`` over log parameters (the
    penalty shrinks every parameter towards 1; 0, the default, is plain maximum likelihood
    as in the paper), with the analytic gradient. Customers with the same ``(x, t_x, T)``
    are evaluated once and weighted by their count: with ages in whole days many customers
    share a triple.
    """
    x, t_x, T = _check_rft(x, t_x, T)
    (ux, utx, uT), weights, _ = distinct_customers(x, t_x, T)
    w = weights / weights.sum()
    x_values = np.unique(ux, return_inverse=True)
    start = initial or BgNbdParams(r=1.0, alpha=max(float(np.mean(T)), 1e-6), a=1.0, b=1.0)

    def objective(log_theta: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = _bgnbd_value_and_gradient(BgNbdParams(*np.exp(log_theta)), ux, utx, uT, x_values)
        # elementwise sums, not BLAS products: a tiny matrix product wakes OpenBLAS's thread
        # pool, which on a busy machine costs more than the whole evaluation
        value = -float(np.sum(w * ll)) + l2_penalty * float(np.sum(log_theta ** 2))
        return value, -np.sum(grad * w, axis=1) + 2 * l2_penalty * log_theta

    theta = _minimise(objective, np.log([start.r, start.alpha, start.a, start.b]), "BG/NBD")
    params = BgNbdParams(*np.exp(theta.x))
    ll = float(np.sum(weights * bgnbd_log_likelihood(params, ux, utx, uT)))
    return FitResult(params, ll, int(x.size), int(theta.nit))


def distinct_customers(x: np.ndarray, t_x: np.ndarray, T: np.ndarray
                       ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray, np.ndarray]:
    """The distinct ``(x, t_x, T)`` triples, how many customers share each, and each
    customer's triple (an index into them): every BG/NBD quantity of a customer depends on
    these three numbers only, and with ages in whole days many customers share them (328k
    triples among 447k customers at L scale).

    The triples come in ``np.unique(..., axis=0)``'s order (by x, then t_x, then T), so a fit's
    weighted sums add up in the same order as with it; a lexicographic sort of the three
    columns finds them ≈ 7x faster (0.12 against 0.83 s at L scale, docs/benchmarks.md)."""
    n = x.size
    order = np.lexsort((T, t_x, x))
    xs, txs, Ts = x[order], t_x[order], T[order]
    first = np.ones(n, dtype=bool)
    first[1:] = (xs[1:] != xs[:-1]) | (txs[1:] != txs[:-1]) | (Ts[1:] != Ts[:-1])
    starts = np.flatnonzero(first)
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(first) - 1
    return (xs[starts], txs[starts], Ts[starts]), np.diff(np.append(starts, n)), inverse


def probability_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """P(alive at T | x, t_x, T), FHL (2005) eq. 11; 1 for customers without a repeat
    purchase (in the BG/NBD a customer can only drop out right after a purchase)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    return 1.0 / (1.0 + _dropout_odds(params, x, t_x, T))


def expected_purchases(params: BgNbdParams, t: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike,
                       dropout_odds: np.ndarray | None = None) -> np.ndarray:
    """Conditional expected number of purchases in (T, T + t], FHL (2005) eq. 10.

    ``dropout_odds``: :func:`_dropout_odds` of these customers, when the caller evaluates
    several horizons (they do not depend on ``t``); ignored near a = 1, where both sides of
    the singularity need their own."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if abs(params.a - 1.0) < A_NEAR_ONE:
        return _across_a_equal_one(params, lambda p: expected_purchases(p, t, x, t_x, T))
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + T + t))
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * (1.0 - np.exp(log_ratio) * hyp)
    odds = _dropout_odds(params, x, t_x, T) if dropout_odds is None else dropout_odds
    out = numerator / (1.0 + odds)
    if not np.all(np.isfinite(out)):
        raise ClvFitError("BG/NBD conditional expectation is not finite (hyp2f1 did not converge) for "
                          f"{int(np.sum(~np.isfinite(out)))} customer(s); check the parameters {params}")
    return out


def expected_purchases_new_customer(params: BgNbdParams, t: ArrayLike) -> np.ndarray:
    """Unconditional E[X(t)], FHL (2005) eq. 9: purchases (after the first) in (0, t] of a
    customer just acquired. Equals :func:`expected_purchases` at x = t_x = T = 0."""
    t = np.asarray(t, dtype=float)
    if abs(params.a - 1.0) < A_NEAR_ONE:
        return _across_a_equal_one(params, lambda p: expected_purchases_new_customer(p, t))
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    return (a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def simulate_bgnbd(params: BgNbdParams, T: ArrayLike, rng: np.random.Generator,
                   future: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw customers from the BG/NBD generative process, vectorised over customers.

    Each customer has age ``T`` (time since the first purchase). Returns ``(x, t_x, alive,
    y)``: repeat purchases and time of the last one within (0, T], whether still alive at
    T, and the number of purchases in (T, T + future]. Used by the benchmark and to test the
    likelihood and the predictions against the process they describe.
    """
    T = np.asarray(T, dtype=float)
    n = T.size
    lam = rng.gamma(params.r, 1.0 / params.alpha, n)
    p = rng.beta(params.a, params.b, n)
    end = T + future
    x = np.zeros(n, dtype=np.int64)
    y = np.zeros(n, dtype=np.int64)
    t_x = np.zeros(n)
    now = np.zeros(n)
    alive = np.ones(n, dtype=bool)  # alive after the first purchase at time 0
    active = np.ones(n, dtype=bool)  # alive and not past T + future yet
    while active.any():
        idx = np.flatnonzero(active)
        now[idx] += rng.exponential(1.0 / lam[idx])
        within = now[idx] <= end[idx]
        done = idx[~within]
        active[done] = False
        buy = idx[within]
        in_calibration = now[buy] <= T[buy]
        x[buy[in_calibration]] += 1
        t_x[buy[in_calibration]] = now[buy[in_calibration]]
        y[buy[~in_calibration]] += 1
        drop = rng.random(buy.size) < p[buy]
        dropped = buy[drop]
        active[dropped] = False
        # a customer who drops out at a purchase after T was still alive at T
        alive[dropped[now[dropped] <= T[dropped]]] = False
    return x, t_x, alive, y


def _dropout_odds(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """a/(b+x−1) · ((α+T)/(α+t_x))^(r+x) for x > 0, else 0 (computed in log space)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    safe_x = np.where(repeat, x, 1.0)
    log_odds = np.log(a) - np.log(b + safe_x - 1) + (r + safe_x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(repeat, np.exp(log_odds), 0.0)


def _across_a_equal_one(params: BgNbdParams, f):
    """The closed forms divide by a − 1, a removable singularity: near a = 1 take the mean of
    both sides at a = 1 ± 2·A_NEAR_ONE (second-order accurate, no cancellation blow-up)."""
    below = BgNbdParams(params.r, params.alpha, 1.0 - 2 * A_NEAR_ONE, params.b)
    above = BgNbdParams(params.r, params.alpha, 1.0 + 2 * A_NEAR_ONE, params.b)
    return 0.5 * (f(below) + f(above))


def _check_rft(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, t_x, T = (np.asarray(v, dtype=float).ravel() for v in (x, t_x, T))
    if not (x.size == t_x.size == T.size):
        raise ValueError(f"x, t_x and T differ in length: {x.size}, {t_x.size}, {T.size}")
    if x.size == 0:
        raise ClvFitError("no customers to fit BG/NBD on")
    bad = (x < 0) | (t_x < 0) | (t_x > T) | ((x == 0) & (t_x != 0)) | ~np.isfinite(x + t_x + T)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} customer(s) violate 0 <= t_x <= T, x >= 0 (t_x = 0 when x = 0)")
    if not (T > 0).any():
        raise ClvFitError("every customer has age T = 0 (first purchase on the as-of date): nothing to fit")
    if not (x > 0).any():
        raise ClvFitError("no customer has a repeat purchase: the dropout parameters a, b are not identified")
    return x, t_x, T


# ----------------------------------------------------------------------- Gamma-Gamma


def gamma_gamma_log_likelihood(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> np.ndarray:
    """Per-customer log density of the mean ``m`` of ``x`` transaction values (Fader &
    Hardie 2013, eq. 3): Γ(px+q)/(Γ(px)Γ(q)) · γ^q x^(px) m^(px−1) / (γ + x m)^(px+q)."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    return _gamma_gamma_value_and_gradient(params, x, m, np.unique(x, return_inverse=True), np.log(m))[0]


def gamma_gamma_log_likelihood_gradient(params: GammaGammaParams, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """d log-likelihood / d log(p, q, gamma), per customer (shape (3, n))."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    return _gamma_gamma_value_and_gradient(params, x, m, np.unique(x, return_inverse=True), np.log(m))[1]


def _gamma_gamma_value_and_gradient(params: GammaGammaParams, x: np.ndarray, m: np.ndarray,
                                    x_values: tuple[np.ndarray, np.ndarray], log_m: np.ndarray
                                    ) -> tuple[np.ndarray, np.ndarray]:
    """The Gamma-Gamma log-likelihood per customer and its gradient in one pass: the gamma
    and digamma functions of ``p x`` are computed once per distinct ``x``
    (``x_values = np.unique(x, return_inverse=True)``) and gathered, as in the BG/NBD fit."""
    p, q, g = params.p, params.q, params.gamma
    xs, at = x_values
    pxs = p * xs
    px = p * x
    log_x = np.log(xs)[at]
    log_total = np.log(g + x * m)
    value = (gammaln(pxs + q)[at] - gammaln(pxs)[at] - gammaln(q) + q * np.log(g) + px * log_x
             + (px - 1) * log_m - (px + q) * log_total)
    psi_sum = digamma(pxs + q)[at]
    d_p = x * (psi_sum - digamma(pxs)[at] + log_x + log_m - log_total)
    d_q = psi_sum - digamma(q) + np.log(g) - log_total
    d_g = q / g - (px + q) / (g + x * m)
    return value, np.vstack([p * d_p, q * d_q, g * d_g])


def fit_gamma_gamma(x: ArrayLike, m: ArrayLike, l2_penalty: float = 0.0,
                    initial: GammaGammaParams | None = None) -> FitResult:
    """Maximum-likelihood Gamma-Gamma fit on repeat customers (x > 0, m > 0 — pass only
    those: a customer without a repeat purchase has no repeat spend to model). Objective as
    in :func:`fit_bgnbd`."""
    x, m = np.asarray(x, dtype=float).ravel(), np.asarray(m, dtype=float).ravel()
    if x.size != m.size:
        raise ValueError(f"x and m differ in length: {x.size}, {m.size}")
    if x.size == 0:
        raise ClvFitError("no repeat customers to fit Gamma-Gamma on")
    if (x <= 0).any() or (m <= 0).any() or not np.isfinite(m).all():
        raise ValueError("Gamma-Gamma needs x > 0 and a positive, finite mean spend m for every customer")
    start = initial or GammaGammaParams(p=1.0, q=1.0, gamma=float(np.mean(m)))
    n = x.size

    x_values = np.unique(x, return_inverse=True)
    log_m = np.log(m)

    def objective(log_theta: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = _gamma_gamma_value_and_gradient(GammaGammaParams(*np.exp(log_theta)), x, m, x_values, log_m)
        value = -float(np.mean(ll)) + l2_penalty * float(np.sum(log_theta ** 2))
        return value, -grad.sum(axis=1) / n + 2 * l2_penalty * log_theta

    theta = _minimise(objective, np.log([start.p, start.q, start.gamma]), "Gamma-Gamma")
    params = GammaGammaParams(*np.exp(theta.x))
    return FitResult(params, float(np.sum(gamma_gamma_log_likelihood(params, x, m))), int(x.size), int(theta.nit))


def expected_average_value(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> np.ndarray:
    """E[spend per purchase | x, m] = p(γ + x m) / (p x + q − 1) (Fader & Hardie 2013, eq. 5):
    a weighted mean of the population mean pγ/(q−1) and the customer's own mean; for x = 0
    the population mean. NaN where p x + q <= 1: with q <= 1 the population mean is
    infinite (spend too heavy-tailed for the model), so customers without a repeat purchase
    have no finite expectation, while repeat customers usually still do."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    m = np.where(x > 0, m, 0.0)
    denominator = params.p * x + params.q - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, params.p * (params.gamma + x * m) / denominator, np.nan)


def frequency_monetary_correlation(x: ArrayLike, m: ArrayLike) -> float:
    """Pearson correlation of repeat purchases and mean repeat spend among repeat customers:
    Gamma-Gamma assumes it is about 0 (report it; the model is doubtful when it is strong)."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    if x.size < 2 or np.std(x) == 0 or np.std(m) == 0:
        return float("nan")
    return float(np.corrcoef(x, m)[0, 1])


# ------------------------------------------------------------------------------ CLV


def discounted_clv(bgnbd: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, value_per_purchase: ArrayLike,
                   horizon: float, month: float, monthly_discount_rate: float) -> np.ndarray:
    """Expected discounted value of purchases in (T, T + horizon]: the horizon is cut into
    months (the last one partial), each month's expected purchases (BG/NBD) times the
    expected spend per purchase (usually :func:`expected_average_value`) is discounted by
    (1 + d)^k for month k. ``horizon`` and ``month`` are in the BG/NBD time unit.

    The spend per purchase is the same in every month, so this is
    :func:`discounted_purchases` times it."""
    value = np.asarray(value_per_purchase, dtype=float)
    return discounted_purchases(bgnbd, x, t_x, T, horizon, month, monthly_discount_rate) * value


def discounted_purchases(bgnbd: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, horizon: float,
                         month: float, monthly_discount_rate: float) -> np.ndarray:
    """Σ_k (E[X(k months)] − E[X(k − 1 months)]) / (1 + d)^k over the months of the horizon
    (the last one partial): each month's expected purchases, discounted — the CLV of a
    customer whose every purchase is worth 1. Depends on ``(x, t_x, T)`` only, so a caller
    can evaluate it once per distinct triple (:func:`distinct_customers`)."""
    if horizon <= 0 or month <= 0:
        raise ValueError("horizon and month length must be positive")
    if monthly_discount_rate <= -1:
        raise ValueError("the monthly discount rate must be > -1")
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    # the same for every month: computed once, not once per month
    odds = _dropout_odds(bgnbd, x, t_x, T)
    total = np.zeros(np.broadcast(x, t_x, T).shape)
    previous = np.zeros_like(total)
    months = int(np.ceil(horizon / month - 1e-9))
    for k in range(1, months + 1):  # a loop over months (about 12), vectorised over customers
        cumulative = expected_purchases(bgnbd, min(k * month, horizon), x, t_x, T, dropout_odds=odds)
        total += (cumulative - previous) / (1 + monthly_discount_rate) ** k
        previous = cumulative
    return total


def _minimise(objective, start: np.ndarray, model: str):
    """L-BFGS-B with the analytic gradient (``objective`` returns value and gradient), each
    log parameter boxed to start ± LOG_BOX; when it stops short (a line search failing near
    the optimum of a flat likelihood), Nelder-Mead polishes from where it stopped.

    The box matters when the maximum lies at infinity: with no heterogeneity in dropout,
    BG/NBD's a and b grow without bound at a fixed a/(a+b), and the likelihood never stops
    rising. The estimate then sits on the box (reported with a warning), which describes the
    data as well as the limit does (p ≈ a/(a+b) for everyone)."""
    bounds = [(v - LOG_BOX, v + LOG_BOX) for v in start]
    result = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": 1000, "ftol": 1e-12, "gtol": 1e-8})
    if not result.success and np.isfinite(result.fun) and np.max(np.abs(result.jac)) < GRADIENT_TOLERANCE:
        # A line search that cannot improve on a point this flat has hit floating-point
        # precision, typically on the ridge where a and b grow together (see above):
        # Nelder-Mead would spend 20,000 iterations crawling along it for a 1e-11 gain.
        log.info("%s: L-BFGS-B stopped (%s) with max |gradient| %.1e < %.0e: accepted", model, result.message,
                 np.max(np.abs(result.jac)), GRADIENT_TOLERANCE)
        result.success = True
    if not result.success or not np.isfinite(result.fun):
        log.info("%s: L-BFGS-B stopped (%s); polishing with Nelder-Mead", model, result.message)
        from_here = result.x if np.isfinite(result.fun) else start
        result = minimize(lambda theta: objective(theta)[0], from_here, method="Nelder-Mead", bounds=bounds,
                          options={"maxiter": 20000, "xatol": 1e-9, "fatol": 1e-13})
    if not result.success or not np.all(np.isfinite(result.x)):
        raise ClvFitError(f"{model} maximum likelihood did not converge: {result.message}")
    on_box = [i for i, (v, (low, high)) in enumerate(zip(result.x, bounds, strict=True))
              if min(v - low, high - v) < 1e-3]
    if on_box:
        log.warning("%s: the likelihood keeps rising towards the edge of the parameter box for parameter(s) %s "
                    "(estimate at the edge; set clv_l2_penalty > 0 to regularise)", model, on_box)
    return result
