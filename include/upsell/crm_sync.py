"""Export the published next-best-action list for a CRM import (the example consumer DAG)."""

from __future__ import annotations

import os
from pathlib import Path

from upsell.publish import PARQUET_DIR, default_serving_dir
from upsell.tasks import warehouse_path


def export_next_best_actions(outbox: Path | None = None) -> dict:
    """Copy the served ``upsell_next_best_action`` Parquet to ``outbox`` as CSV, named by the
    as-of date it was published for, atomically (write, then rename)."""
    import duckdb

    serving = default_serving_dir(warehouse_path())
    source = serving / PARQUET_DIR / "current" / "upsell_next_best_action.parquet"
    outbox = Path(outbox or os.environ.get("UPSELL_CRM_OUTBOX") or warehouse_path().resolve().parent / "outbox")
    outbox.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    rows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(source)]).fetchone()[0]
    as_of = con.execute("SELECT max(as_of_date) FROM read_parquet(?)", [str(serving / PARQUET_DIR / "current" /
                                                                         "customer_rfm.parquet")]).fetchone()[0]
    target = outbox / f"next_best_actions_{as_of}.csv"
    tmp = target.with_suffix(".csv.tmp")
    con.execute(f"COPY (SELECT * FROM read_parquet('{source}') ORDER BY score DESC, account_id) "
                f"TO '{tmp}' (HEADER, DELIMITER ',')")
    os.replace(tmp, target)
    return {"file": str(target), "rows": rows}
