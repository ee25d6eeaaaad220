"""Predictive CLV fit time vs number of customers (BG/NBD + Gamma-Gamma + scoring).

Customers are drawn from the BG/NBD generative process (ages in whole days, as the
warehouse's clv_* columns are) and their spend from the Gamma-Gamma process, then the
nightly step runs on them exactly as the dbt Python models do: ``fit_models`` (both
maximum-likelihood fits) and ``score_customers`` (P(alive), expected purchases, discounted
CLV). Each size runs ``--rounds`` times; the report gives the median and the time per
customer, whose flatness across sizes is the linearity check.

Usage: ``python -m upsell.bench.clv --sizes 50000 100000 250000 500000 --rounds 3``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

import numpy as np
import pandas as pd

from upsell import clv
from upsell.clv_marts import fit_models, score_customers

# a B2B-like population: a purchase every couple of months while alive, a third drop out early
BGNBD = clv.BgNbdParams(r=0.5, alpha=60.0, a=0.7, b=3.0)
GG = clv.GammaGammaParams(p=4.0, q=3.0, gamma=200_000.0)


def synthetic_summary(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` customers with the columns of int_customer_purchase_summary's clv_* inputs."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 3 * 365, n).astype(float)  # first purchase up to 3 years before as-of
    x, t_x, _, _ = clv.simulate_bgnbd(BGNBD, T, rng)
    t_x = np.floor(t_x)
    nu = rng.gamma(GG.q, 1 / GG.gamma, n)
    m = np.where(x > 0, rng.gamma(GG.p * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1))), 0.0)
    return pd.DataFrame({"account_id": np.char.add("A", np.arange(n).astype(str)), "as_of_date": date(2026, 10, 31),
                         "clv_frequency": x, "clv_recency_days": t_x, "clv_t_days": T,
                         "clv_monetary_value_jpy": m.round(2)})


def run(sizes: list[int], rounds: int) -> list[dict]:
    results = []
    for n in sizes:
        summary = synthetic_summary(n)
        fit_times, score_times = [], []
        for _ in range(rounds):
            t = time.perf_counter()
            fits = fit_models(summary)
            fit_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            score_customers(summary, fits)
            score_times.append(time.perf_counter() - t)
        fit_s, score_s = statistics.median(fit_times), statistics.median(score_times)
        values = fits.set_index(["model", "parameter"])["value"]
        results.append({"customers": n, "fit_s": fit_s, "score_s": score_s, "total_s": fit_s + score_s,
                        "us_per_customer": (fit_s + score_s) / n * 1e6,
                        "r": values["bg_nbd", "r"], "alpha": values["bg_nbd", "alpha"],
                        "a": values["bg_nbd", "a"], "b": values["bg_nbd", "b"]})
        row = results[-1]
        print(f"{n:>9,} customers: fit {fit_s:6.2f} s, score {score_s:6.2f} s, total {row['total_s']:6.2f} s, "
              f"{row['us_per_customer']:6.1f} us/customer   (r={row['r']:.3f} alpha={row['alpha']:.1f} "
              f"a={row['a']:.3f} b={row['b']:.3f})", flush=True)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 100_000, 250_000, 500_000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"true parameters: {BGNBD}, {GG}")
    results = run(args.sizes, args.rounds)
    base = results[0]["us_per_customer"]
    print("time per customer relative to the smallest size: "
          + ", ".join(f"{r['customers']:,}: {r['us_per_customer'] / base:.2f}" for r in results))


if __name__ == "__main__":
    main()
