"""Run the suites of ``suites.py`` against the warehouse and summarise by severity."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from upsell.contracts import DATASETS
from upsell.validate import suites
from upsell.validate.context import data_docs_index, get_context
from upsell.warehouse import connect

log = logging.getLogger(__name__)

VOLUME_MIN_RATIO = float(os.environ.get("UPSELL_VOLUME_MIN_RATIO", "0.1"))
ROWCOUNT_TOLERANCE = float(os.environ.get("UPSELL_ROWCOUNT_TOLERANCE", "0.5"))
VOLUME_HISTORY_LOADS = 7


@dataclass
class ValidationReport:
    layer: str
    failures: list[str] = field(default_factory=list)  # error level: block publish
    warnings: list[str] = field(default_factory=list)
    suites_run: int = 0
    data_docs: Path | None = None

    @property
    def success(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        head = (f"{self.layer} validation: {self.suites_run} suites, {len(self.failures)} failed error-level "
                f"expectations, {len(self.warnings)} warnings")
        lines = [head] + [f"  ERROR {f}" for f in self.failures] + [f"  warning {w}" for w in self.warnings]
        if self.data_docs:
            lines.append(f"  Data Docs: file://{self.data_docs}")
        return "\n".join(lines)


class _Runner:
    """Holds one GX context for a layer and validates DataFrames against suites."""

    def __init__(self, warehouse: Path, run_id: str, layer: str) -> None:
        import great_expectations as gx

        self.gx = gx
        self.context = get_context(warehouse)
        self.source = self.context.data_sources.add_or_update_pandas(name="upsell")
        self.run_id = gx.RunIdentifier(run_name=run_id)
        self.report = ValidationReport(layer)
        self.warehouse = warehouse

    def validate(self, suite_name: str, df, expectations: list, label: str = "") -> None:
        gx = self.gx
        if not expectations:
            return
        try:
            asset = self.source.get_asset(suite_name)
        except LookupError:
            asset = self.source.add_dataframe_asset(name=suite_name)
        try:
            batch = asset.get_batch_definition("whole")
        except KeyError:
            batch = asset.add_batch_definition_whole_dataframe("whole")
        suite = self.context.suites.add_or_update(gx.ExpectationSuite(name=suite_name, expectations=expectations))
        definition = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite_name, data=batch, suite=suite))
        result = definition.run(batch_parameters={"dataframe": df}, run_id=self.run_id,
                                result_format="SUMMARY")
        self.report.suites_run += 1
        for r in result.results:
            if r.success:
                continue
            cfg = r.expectation_config
            what = cfg.kwargs.get("column") or cfg.kwargs.get("column_list") or "table"
            detail = ""
            if r.exception_info and r.exception_info.get("raised_exception"):
                detail = f": {r.exception_info.get('exception_message')}"
            elif r.result:
                observed = r.result.get("observed_value")
                unexpected = r.result.get("unexpected_count")
                detail = f" (observed {observed})" if observed is not None else f" ({unexpected} unexpected rows)"
            message = f"{suite_name}{f' [{label}]' if label else ''}: {cfg.type} on {what}{detail}"
            severity = str(getattr(cfg, "severity", "critical")).lower()
            (self.report.warnings if "warning" in severity or "info" in severity else self.report.failures).append(
                message)

    def finish(self) -> ValidationReport:
        self.context.build_data_docs()
        self.report.data_docs = data_docs_index(self.warehouse)
        return self.report


def _local_dates(df, dataset: str, tz: str):
    """Dates and timestamps as business-local calendar dates, for the as-of + 1 day rule."""
    import pandas as pd

    for column in suites.RAW_EVENT_DATES.get(dataset, []):
        if column in df:
            values = pd.to_datetime(df[column], utc=True) if DATASETS[dataset].column(column).type == "timestamp" \
                else pd.to_datetime(df[column])
            if getattr(values.dt, "tz", None) is not None:
                values = values.dt.tz_convert(tz)
            df[column] = values.dt.date
    return df


def validate_raw(warehouse: Path, run_id: str, as_of: date, tz: str = "Asia/Tokyo") -> ValidationReport:
    """The gate before dbt: the rows this run loaded (file by file) and the volumes."""
    import pandas as pd

    runner = _Runner(warehouse, run_id, "raw")
    con = connect(warehouse, read_only=True)
    try:
        loads = con.execute("""SELECT dataset, load_id, source_file, rows_loaded FROM audit.file_loads
            WHERE run_id = ? AND status = 'loaded' AND rows_loaded > 0 ORDER BY dataset, source_file""",
                            [run_id]).fetchall()
        references = _reference_sets(con, {d for d, *_ in loads})
        for dataset, load_id, source_file, _rows in loads:
            columns = ", ".join(f'"{c.name}"' for c in DATASETS[dataset].columns)
            df = con.execute(f"SELECT {columns} FROM raw.{dataset} WHERE _load_id = ?", [load_id]).df()
            df = _local_dates(_floats(df), dataset, tz)
            runner.validate(f"raw.{dataset}", df, suites.raw_file_suite(dataset, as_of, references), source_file)
        volume = _volume_frame(con, run_id)
        if len(volume):
            runner.validate("raw.volume", pd.DataFrame(volume), suites.raw_volume_suite(VOLUME_MIN_RATIO))
    finally:
        con.close()
    return runner.finish()


def _floats(df):
    """DECIMAL columns arrive as Python Decimals; GX compares numbers as floats."""
    for column in df.columns:
        if df[column].dtype == object and len(df) and df[column].map(lambda v: type(v).__name__).eq("Decimal").any():
            df[column] = df[column].astype(float)
    return df


def _reference_sets(con, datasets: set[str]) -> dict[str, set]:
    wanted = {(parent, col) for d in datasets for col, parent, _ in suites.RAW_REFERENCES.get(d, [])}
    out: dict[str, set] = {}
    for parent, col in wanted:
        # from raw (every version; ids do not change): this gate runs before dbt
        out[f"{parent}.{col}"] = {r[0] for r in con.execute(f"SELECT DISTINCT {col} FROM raw.{parent}").fetchall()}
    return out


def _volume_frame(con, run_id: str) -> list[dict]:
    """Rows loaded per dataset by this run vs the median of the previous runs' loads."""
    rows = con.execute("""
        WITH per_run AS (
            SELECT dataset, run_id, sum(rows_loaded) AS rows_loaded, min(started_at) AS started_at
            FROM audit.file_loads WHERE status = 'loaded' GROUP BY dataset, run_id
        ), current AS (SELECT * FROM per_run WHERE run_id = ?),
        history AS (
            SELECT p.dataset, p.rows_loaded,
                   row_number() OVER (PARTITION BY p.dataset ORDER BY p.started_at DESC) AS n
            FROM per_run p JOIN current c USING (dataset) WHERE p.run_id <> c.run_id AND p.started_at < c.started_at
        )
        SELECT c.dataset, c.rows_loaded, median(h.rows_loaded) AS recent_median, count(h.rows_loaded) AS runs
        FROM current c JOIN history h ON h.dataset = c.dataset AND h.n <= ?
        GROUP BY c.dataset, c.rows_loaded""", [run_id, VOLUME_HISTORY_LOADS]).fetchall()
    return [{"dataset": d, "rows_loaded": n, "recent_median": m, "volume_ratio": n / m if m else math.inf}
            for d, n, m, runs in rows if runs >= 3]


def validate_marts(warehouse: Path, run_id: str, as_of: date) -> ValidationReport:
    """The gate before publish: keys after dbt's dedupe of this run's records, and every
    table of the ``marts`` schema, whole."""
    runner = _Runner(warehouse, run_id, "marts")
    con = connect(warehouse, read_only=True)
    try:
        loads = con.execute("""SELECT dataset, load_id FROM audit.file_loads
            WHERE run_id = ? AND status = 'loaded' AND rows_loaded > 0""", [run_id]).fetchall()
        for dataset in sorted({d for d, _ in loads}):
            keys = [k if "email" not in k else k + "_hash" for k in DATASETS[dataset].keys]
            ids = [lid for d, lid in loads if d == dataset]
            df = con.execute(f"SELECT {', '.join(keys)} FROM staging.stg_{DATASETS[dataset].source}__{dataset} "
                             f"WHERE _load_id IN ({', '.join('?' for _ in ids)})", ids).df()
            runner.validate(f"staging.{dataset}.keys", df, suites.raw_keys_suite(dataset))
        marts = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1").fetchall()]
        previous = _previous_publish_counts(con)
        reconciliations = _reconciliations(con, marts, as_of)
        for mart in marts:
            df = _floats(con.execute(f"SELECT * FROM marts.{mart}").df())
            # history snapshots grow by one as-of date per night (the second night doubles
            # them): no row-count change check; their daily snapshot is checked as the base mart
            prev = None if mart.endswith("_history") else previous.get(mart)
            runner.validate(f"marts.{mart}", df, suites.mart_suite(
                mart, list(df.columns), prev, ROWCOUNT_TOLERANCE, reconciliations.get(mart)))
    finally:
        con.close()
    return runner.finish()


def _previous_publish_counts(con) -> dict[str, int]:
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'audit' "
                         "AND table_name = 'publishes'").fetchone()[0]
    if not exists:
        return {}
    return dict(con.execute("""SELECT mart, rows FROM audit.publishes
        QUALIFY row_number() OVER (PARTITION BY mart ORDER BY published_at DESC) = 1""").fetchall())


def _reconciliations(con, marts: list[str], as_of: date) -> dict[str, dict[str, float]]:
    """Totals the marts must reproduce, computed from the raw layer's newest versions."""
    out: dict[str, dict[str, float]] = {}
    paid = """SELECT coalesce(sum(amount_jpy), 0) FROM staging.stg_billing__invoices
              WHERE status = 'paid' AND invoice_date > ?::DATE - INTERVAL {days} DAY AND invoice_date <= ?::DATE"""
    if "customer_rfm" in marts:
        total = con.execute(paid.format(days=365), [as_of, as_of]).fetchone()[0]
        out["customer_rfm"] = {"monetary_jpy": float(total)}
    if "customer_ltv" in marts:
        total = con.execute("SELECT coalesce(sum(amount_jpy), 0) FROM staging.stg_billing__invoices "
                            "WHERE status = 'paid' AND invoice_date <= ?::DATE", [as_of]).fetchone()[0]
        out["customer_ltv"] = {"historical_ltv_jpy": float(total)}
    return out
