"""``upsell summary``: what the last nightly run did, read back from the warehouse audit.

Used after ``make run`` (which runs the job through Airflow, whose task logs are long) to
print a short, true account: files and rows per status, the reconciliation, and what
was published where.
"""

from __future__ import annotations

from pathlib import Path

from upsell.publish import PARQUET_DIR, SERVING_FILE, default_serving_dir
from upsell.validate.context import data_docs_index
from upsell.warehouse import connect


def print_summary(warehouse: Path) -> int:
    if not Path(warehouse).exists():
        print(f"no warehouse at {warehouse}")
        return 1
    con = connect(warehouse, read_only=True)
    try:
        run = con.execute("SELECT run_id FROM audit.file_loads ORDER BY finished_at DESC LIMIT 1").fetchone()
        if run:
            files = con.execute("""SELECT status, count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined),
                                          sum(duplicates_collapsed)
                                   FROM audit.file_loads WHERE run_id = ? GROUP BY status ORDER BY status""",
                                [run[0]]).fetchall()
            print(f"Last load run {run[0]}:")
            for status, n, read, loaded, quarantined, dups in files:
                print(f"  {n} file(s) {status}: {read:,} rows read = {loaded:,} loaded + {quarantined:,} quarantined "
                      f"+ {dups:,} duplicates collapsed")
        bad = con.execute("""SELECT count(*) FROM audit.file_loads
                             WHERE rows_read <> rows_loaded + rows_quarantined + duplicates_collapsed""").fetchone()[0]
        print(f"  reconciliation: {'every file reconciles' if bad == 0 else f'{bad} file(s) do NOT reconcile'}")
        has_publish = con.execute("""SELECT count(*) FROM information_schema.tables
                                     WHERE table_schema = 'audit' AND table_name = 'publishes'""").fetchone()[0]
        if has_publish:
            last = con.execute("""SELECT run_id, as_of_date, max(published_at), count(*), sum(rows) FROM audit.publishes
                                  GROUP BY run_id, as_of_date ORDER BY 3 DESC LIMIT 1""").fetchone()
            serving = default_serving_dir(warehouse)
            print(f"Last publish: run {last[0]}, as of {last[1]}: {last[3]} marts, {last[4]:,} rows")
            print(f"  BI: {serving / SERVING_FILE} (schema marts, open read-only), "
                  f"{serving / PARQUET_DIR / 'current'}/<mart>.parquet (history marts: <mart>/<as_of_date>.parquet)")
        else:
            print("Nothing published yet.")
        docs = data_docs_index(warehouse)
        if docs.exists():
            print(f"  Data Docs: file://{docs}")
    finally:
        con.close()
    return 0
