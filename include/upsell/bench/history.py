"""What checking the history marts costs a night, after a few nights and after many.

``customer_cpm_history`` and ``upsell_propensity_history`` gain one snapshot (one row per
active account) every night. A night writes only its own snapshot, so what it must check
should not grow with the history; the two-night suite cannot show whether it does. This
benchmark takes a built warehouse, gives copies of it ``N`` nights of history (the as-of
date's snapshot repeated on the ``N - 1`` dates before it) and measures, for each ``N`` in
its own fresh process (``upsell.bench.jobs history-checks``), alternating over rounds:
the dbt data tests of both history marts, the whole marts gate and the publish (after one
untimed publish of the copy, so that a served file exists as on any night after the
first), seconds and peak RSS.

Usage (a warehouse kept by ``upsell.bench.nightly --keep``, its incremental night's date)::

    python -m upsell.bench.history bench-data/bench-nightly-*/wh/warehouse.duckdb 2026-11-02 \\
        --nights 2 30 --out bench-data/history
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
from datetime import date
from pathlib import Path

from upsell.bench.jobs import HISTORY_MARTS
from upsell.bench.measure import measure


def with_history(source: Path, copy: Path, as_of: date, nights: int) -> Path:
    """A copy of ``source`` whose history marts hold ``nights`` snapshots: ``as_of``'s and
    copies of it dated each of the ``nights - 1`` days before (other dates removed)."""
    import duckdb

    from upsell.publish import publish

    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, copy)
    con = duckdb.connect(str(copy))
    try:
        for mart in HISTORY_MARTS:
            con.execute(f"DELETE FROM marts.{mart} WHERE as_of_date <> ?", [as_of])
            con.execute(f"""INSERT INTO marts.{mart}
                            SELECT h.* REPLACE (CAST(h.as_of_date - CAST(d.k AS INTEGER) AS DATE) AS as_of_date)
                            FROM marts.{mart} AS h, range(1, ?) AS d(k) WHERE h.as_of_date = ?""",
                        [nights, as_of])
    finally:
        con.close()
    publish(copy, "bench-history-prepare", as_of)  # last night's served file
    return copy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("as_of", type=date.fromisoformat)
    parser.add_argument("--nights", type=int, nargs="+", default=[2, 30])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("bench-data/history"))
    args = parser.parse_args(argv)
    copies = {n: with_history(args.warehouse, args.out / f"nights-{n}" / "warehouse.duckdb", args.as_of, n)
              for n in args.nights}
    results: dict[int, list[dict]] = {n: [] for n in args.nights}
    for r in range(args.rounds):
        for n in args.nights if r % 2 == 0 else reversed(args.nights):
            results[n].append(measure("history-checks", str(copies[n]), str(args.as_of),
                                      env={"UPSELL_EMAIL_SALT": "bench-salt"},
                                      log=args.out / f"nights-{n}-round-{r}.log"))
    (args.out / "history-results.json").write_text(json.dumps(results, indent=2))
    print("| nights | history rows per mart | dbt tests s | marts gate s | publish s | peak RSS GiB |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n, runs in results.items():
        rows = _rows(copies[n])
        med = {k: statistics.median(run["stages"][k] for run in runs) for k in ("dbt_tests", "marts_gate", "publish")}
        print(f"| {n} | {rows:,} | {med['dbt_tests']:.2f} | {med['marts_gate']:.2f} | {med['publish']:.2f} | "
              f"{max(run['peak_rss_gib'] for run in runs):.2f} |")
    print(f"(median of {args.rounds} rounds; every result in {args.out / 'history-results.json'})")
    return 0


def _rows(warehouse: Path) -> int:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM marts.{HISTORY_MARTS[0]}").fetchone()[0]
    finally:
        con.close()


if __name__ == "__main__":
    raise SystemExit(main())
