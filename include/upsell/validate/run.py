"""Run the suites of ``suites.py`` against the warehouse and summarise by severity."""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from upsell.contracts import DATASETS
from upsell.validate import suites
from upsell.validate.context import data_docs_index, get_context
from upsell.warehouse import connect

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

VOLUME_MIN_RATIO = float(os.environ.get("UPSELL_VOLUME_MIN_RATIO", "0.1"))
ROWCOUNT_TOLERANCE = float(os.environ.get("UPSELL_ROWCOUNT_TOLERANCE", "0.5"))
VOLUME_HISTORY_LOADS = 7
RESULT_FORMAT = "BASIC"


@dataclass
class ValidationReport:
    layer: str
    failures: list[str] = field(default_factory=list)  # error level: block publish
    warnings: list[str] = field(default_factory=list)
    suites_run: int = 0
    data_docs: Path | None = None
    # this run's Data Docs pages when the gate was asked not to render them itself
    docs_pending: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def render_docs(self) -> None:
        """Render the pages a gate left pending (see ``render_docs=False``); once."""
        pending, self.docs_pending = self.docs_pending, None
        if pending:
            pending()

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
        # Reused, not replaced: replacing it drops its assets and batch definitions, and GX
        # then rewrites great_expectations.yml twice per suite to add them back (≈ 0.5 s a gate at M).
        try:
            self.source = self.context.data_sources.get("upsell")
        except KeyError:
            self.source = self.context.data_sources.add_pandas(name="upsell")
        self.run_name = run_id
        self.run_ids: list = []  # one per validation (see validate)
        self.report = ValidationReport(layer)
        self.warehouse = warehouse
        # suite name -> (the expectations list it was saved with, its validation definition)
        self._saved: dict[str, tuple[list, object]] = {}

    def validate(self, suite_name: str, df, expectations: list, label: str = "") -> None:
        if not expectations:
            return
        saved = self._saved.get(suite_name)
        if saved and saved[0] is expectations:
            # another file of the same dataset: the suite and definition saved for the first
            # one are these (GX's add_or_update compares every expectation again, ≈ 50 ms)
            definition = saved[1]
        else:
            definition = self._save(suite_name, expectations)
            self._saved[suite_name] = (expectations, definition)
        # BASIC: the observed value, the unexpected count and a sample of unexpected values
        # (in Data Docs too) are all a failure message needs; SUMMARY adds per-value counts
        # and row indices of the unexpected values, ≈ 20 % of the raw gate at M
        # (docs/benchmarks.md, eighth round)
        # A result is stored under (suite, run name, run time, batch): with one run time for
        # the whole gate, each file of a dataset overwrote the result of the one before it
        # and Data Docs showed the last file only. Each validation has its own run time.
        run = self.gx.RunIdentifier(run_name=self.run_name, run_time=datetime.now(UTC))
        self.run_ids.append(run)
        result = definition.run(batch_parameters={"dataframe": df}, run_id=run, result_format=RESULT_FORMAT)
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

    def _save(self, suite_name: str, expectations: list):
        """Save the suite and its validation definition (a file context validates saved ones only)."""
        gx = self.gx
        try:
            asset = self.source.get_asset(suite_name)
        except LookupError:
            asset = self.source.add_dataframe_asset(name=suite_name)
        try:
            batch = asset.get_batch_definition("whole")
        except KeyError:
            batch = asset.add_batch_definition_whole_dataframe("whole")
        suite = self.context.suites.add_or_update(gx.ExpectationSuite(name=suite_name, expectations=expectations))
        return self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite_name, data=batch, suite=suite))

    def finish(self, render_docs: bool = True) -> ValidationReport:
        """Render this run's pages of the Data Docs, and the index (or leave that to
        ``report.render_docs()`` when not ``render_docs``).

        Not the whole site: ``build_data_docs()`` without identifiers re-renders every
        validation result ever stored, one more night's worth (≈ 45 results) every night
        (0.65 s after 2 nights, 3.7 s after 22; docs/benchmarks.md). Earlier nights' pages
        stay as they were rendered; the index lists the newest results
        (``validation_results_limit`` in include/gx/great_expectations.yml), as a
        checkpoint's ``UpdateDataDocsAction`` would."""
        self.report.data_docs = data_docs_index(self.warehouse)
        if render_docs:
            self._render_docs()
        else:
            self.report.docs_pending = self._render_docs
        return self.report

    def _render_docs(self) -> None:
        ours = [key for key in self.context.validation_results_store.list_keys() if key.run_id in self.run_ids]
        self.context.build_data_docs(
            resource_identifiers=[*ours, *{key.expectation_suite_identifier for key in ours}])


def _raw_select(dataset: str, expectations: list, tz: str) -> str:
    """The SELECT list of the columns a raw suite checks, shaped in DuckDB so pandas needs
    no per-value work: event dates as business-local DATEs (the as-of + 1 day rule),
    decimals as doubles, referential checks as a boolean semi-join against the parent, and
    a column checked only for presence (ids, emails) as a presence flag with the same
    NULLs: GX fingerprints and scans every frame, and millions of distinct strings cost
    seconds where the check needs one bit."""
    spec = DATASETS[dataset]
    references = {suites.reference_column(c, parent): (c, parent, pc)
                  for c, parent, pc in suites.RAW_REFERENCES.get(dataset, [])}
    checks = _checks_by_column(expectations)
    items = []
    for name in sorted(checks):
        if checks[name] == {"ExpectColumnValuesToNotBeNull"}:
            sql = f'CASE WHEN "{name}" IS NULL THEN NULL ELSE true END'
        elif name in references:
            column, parent, parent_column = references[name]
            sql = (f'CASE WHEN "{column}" IS NULL THEN NULL '
                   f'ELSE "{column}" IN (SELECT "{parent_column}" FROM raw.{parent}) END')
        elif name in suites.RAW_EVENT_DATES.get(dataset, []) and spec.column(name).type == "timestamp":
            sql = f"CAST(timezone('{tz}', \"{name}\") AS DATE)"
        elif spec.column(name).type == "decimal":
            sql = f'CAST("{name}" AS DOUBLE)'
        else:
            sql = f'"{name}"'
        items.append(f'{sql} AS "{name}"')
    return ", ".join(items)


def _checks_by_column(expectations: list) -> dict[str, set[str]]:
    """The columns the expectations read, each with the names of its expectation classes."""
    checks: dict[str, set[str]] = {}
    for e in expectations:
        if getattr(e, "column", None):
            checks.setdefault(e.column, set()).add(type(e).__name__)
    return checks


def validate_raw(warehouse: Path, run_id: str, as_of: date, tz: str = "Asia/Tokyo",
                 render_docs: bool = True) -> ValidationReport:
    """The gate before dbt: the rows this run loaded (file by file) and the volumes.

    ``render_docs=False`` leaves this run's Data Docs pages to ``report.render_docs()``,
    which ``run_nightly`` calls on a thread while dbt builds (the parent only waits then)."""
    import pandas as pd

    runner = _Runner(warehouse, run_id, "raw")
    con = connect(warehouse, read_only=True)
    try:
        loads = con.execute("""SELECT dataset, load_id, source_file, rows_loaded FROM audit.file_loads
            WHERE run_id = ? AND status = 'loaded' AND rows_loaded > 0 ORDER BY dataset, source_file""",
                            [run_id]).fetchall()
        parents = _datasets_with_rows(con, {p for d, *_ in loads for _c, p, _pc in suites.RAW_REFERENCES.get(d, [])})
        # one list per dataset, so that its files share one saved suite (``_Runner.validate``)
        suite_of = functools.cache(lambda dataset: suites.raw_file_suite(dataset, as_of, parents))
        checked = [(dataset, load_id, source_file, suite_of(dataset))
                   for dataset, load_id, source_file, _rows in loads if suite_of(dataset)]

        def fetch(item: tuple):
            dataset, load_id, _file, expectations = item
            return _frame(con, f"SELECT {_raw_select(dataset, expectations, tz)} FROM raw.{dataset} "
                               "WHERE _load_id = ?", [load_id])

        # closed before the connection is, whatever happens: no fetch left running on it
        with contextlib.closing(fetched_ahead(fetch, checked)) as frames:
            for (dataset, _load_id, source_file, expectations), df in frames:
                runner.validate(f"raw.{dataset}", df, expectations, source_file)
        volume = _volume_frame(con, run_id)
        if len(volume):
            runner.validate("raw.volume", pd.DataFrame(volume), suites.raw_volume_suite(VOLUME_MIN_RATIO))
    finally:
        con.close()
    return runner.finish(render_docs)


def fetched_ahead(fetch: Callable[[T], R], items: list[T]) -> Iterator[tuple[T, R]]:
    """``(item, fetch(item))`` in order, the next item's fetch running on a thread meanwhile.

    The raw gate alternates DuckDB work (a file's rows through Arrow into pandas, which
    releases the GIL) with GX's single-threaded Python; fetching one file ahead puts the
    former on the core the latter leaves idle. At most two fetched results exist at once."""
    with ThreadPoolExecutor(1, thread_name_prefix="raw-gate-fetch") as pool:
        pending = pool.submit(fetch, items[0]) if items else None
        for i, item in enumerate(items):
            result = pending.result()
            pending = pool.submit(fetch, items[i + 1]) if i + 1 < len(items) else None
            yield item, result
            del result  # not held while the next one is fetched and validated


def _frame(con, sql: str, params: list | None = None):
    """A query result as the DataFrame GX validates, typed so its checks stay vectorised.

    DuckDB results go through Arrow (4x faster than ``.df()`` for millions of rows):
    decimals become doubles (GX compares numbers as floats), integers narrower than 64 bits
    int64, dates and timestamps datetime64[ns] — GX's pandas "between" is vectorised only
    for int64, float64 and that datetime unit, and otherwise calls a Python function per
    value (30 s per 5M dates; with `customer_rfm`'s three INTEGER scores as int32 the marts
    gate at L took ≈ 0.3 s longer, docs/benchmarks.md, twentieth round). Postgres results (``PgResult``) come through
    ``.df()`` with Decimals converted the same way."""
    import pandas as pd
    import pyarrow as pa

    if not hasattr(con, "sql"):  # PgQueries
        return _floats(con.execute(sql, params).df())
    cursor = con.cursor()  # its own result: earlier fetchone() results may be unfinished
    try:
        table = cursor.sql(sql, params=params).to_arrow_table()
    finally:
        cursor.close()
    fields = [pa.field(f.name, _vectorised_type(f.type)) for f in table.schema]
    df = table.cast(pa.schema(fields)).to_pandas(date_as_object=False)
    for column in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[column].dtype):
            df[column] = df[column].dt.as_unit("ns")
    return df


def _vectorised_type(arrow_type):
    """The Arrow type a column is fetched as, so that GX's pandas checks stay vectorised."""
    import pyarrow as pa

    if pa.types.is_decimal(arrow_type):
        return pa.float64()
    if pa.types.is_integer(arrow_type) and arrow_type.bit_width < 64:
        return pa.int64()
    return arrow_type


def _floats(df):
    """DECIMAL columns arrive as Python Decimals; GX compares numbers as floats. (A column's
    type is read from its first non-null value, not from every value.)"""
    for column in df.columns:
        if df[column].dtype == object and len(df):
            first = df[column].dropna().head(1)
            if len(first) and type(first.iloc[0]).__name__ == "Decimal":
                df[column] = df[column].astype(float)
    return df


def _datasets_with_rows(con, datasets: set[str]) -> set[str]:
    """The parent datasets present in raw (every version; ids do not change): this gate runs
    before dbt, so references are checked against raw, not staging."""
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'").fetchall()}
    return {d for d in datasets & present if con.execute(f"SELECT count(*) > 0 FROM raw.{d}").fetchone()[0]}


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


def validate_marts(warehouse: Path, run_id: str, as_of: date, target: str = "duckdb",
                   render_docs: bool = True) -> ValidationReport:
    """The gate before publish: every table of the ``marts`` schema, whole. ``target``
    postgres: the same queries and suites on the Postgres warehouse (its audit, staging
    views and marts); GX's context stays beside the DuckDB warehouse file.
    ``render_docs=False``: as for :func:`validate_raw` (``run_nightly`` renders them
    while it publishes).

    Keys after dbt's dedupe are not re-checked here: every staging model has dbt
    ``unique`` / ``unique_combination`` tests on its keys, which fail the build before this
    gate runs (checking them again in pandas cost 7 s per night at M scale).

    Every row of a mart is validated, but only the columns its suite checks are fetched
    (:func:`_checked_columns`): ``mrr_movements`` at L is 11.6M rows, and all of its eleven
    columns through Arrow into pandas took 1.8–3.6 s and ≈ 1 GiB for checks that read none
    of them but the row count (docs/benchmarks.md, nineteenth round)."""
    runner = _Runner(warehouse, run_id, "marts")
    schema = "marts"
    if target == "postgres":
        from upsell.pg_publish import BUILD_SCHEMA
        from upsell.target import pg_connect
        from upsell.validate.pgconn import PgQueries

        con = PgQueries(pg_connect())
        schema = BUILD_SCHEMA  # dbt's output on Postgres, before publish copies it to marts
    else:
        con = connect(warehouse, read_only=True)
    try:
        marts = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1", [schema]).fetchall()]
        previous = _previous_publish_counts(con)
        reconciliations = _reconciliations(con, marts, as_of)
        max_rows = _calendar_bounds(con, schema, marts)
        columns = _mart_columns(con, schema)
        for mart in marts:
            dated = "as_of_date" in columns[mart]
            snapshots = _snapshot_counts(_as_of_counts(con, schema, mart), as_of) if dated else None
            if snapshots:  # a history mart: only the night's snapshot (see _snapshot_counts)
                current, before = snapshots
                where, params = " WHERE as_of_date = ?", [current]
            else:
                before, where, params = previous.get(mart), "", None
            expectations = suites.mart_suite(mart, columns[mart], before, ROWCOUNT_TOLERANCE,
                                             reconciliations.get(mart), max_rows.get(mart))
            df = _frame(con, f"SELECT {_checked_columns(expectations)} FROM {schema}.{mart}{where}", params)
            runner.validate(f"marts.{mart}", df, expectations)
    finally:
        con.close()
    return runner.finish(render_docs)


def _mart_columns(con, schema: str) -> dict[str, list[str]]:
    """Each table's columns, in table order (what the suites are chosen by)."""
    out: dict[str, list[str]] = {}
    for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ? "
            "ORDER BY table_name, ordinal_position", [schema]).fetchall():
        out.setdefault(table, []).append(column)
    return out


def _checked_columns(expectations: list) -> str:
    """The SELECT list of the columns the expectations read; a constant when they read none
    (a table-level suite, e.g. the row count, needs the rows, not their values)."""
    return ", ".join(f'"{name}"' for name in sorted(_checks_by_column(expectations))) or "true AS _row"


def _as_of_counts(con, schema: str, mart: str) -> dict:
    return dict(con.execute(f"SELECT as_of_date, count(*) FROM {schema}.{mart} GROUP BY 1").fetchall())


def _snapshot_counts(counts: dict, as_of: date) -> tuple[object, int | None] | None:
    """For a history mart (one snapshot per as-of date, e.g. customer_cpm_history; ``counts``
    its rows per as_of_date): the snapshot this night wrote (the newest on or before
    ``as_of``) and the row count of the snapshot before it. None for a mart with a single
    as-of date, which the gate validates whole.

    Only that snapshot is validated: the history grows by a whole snapshot every night (a
    year at L scale is ≈ 160M rows per history mart), earlier snapshots were validated by
    the nights that wrote them, and the model never rewrites another night's rows (a
    backfill rewrites, and this gate then validates, its own as-of date). Its row count is
    held to the snapshot before it, not to the previous publish of the growing total."""
    if len(counts) < 2:
        return None
    current = max((d for d in counts if _as_date(d) <= as_of), default=None, key=_as_date)
    if current is None:
        return None
    earlier = [d for d in counts if _as_date(d) < _as_date(current)]
    return current, int(counts[max(earlier, key=_as_date)]) if earlier else None


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def _previous_publish_counts(con) -> dict[str, int]:
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'audit' "
                         "AND table_name = 'publishes'").fetchone()[0]
    if not exists:
        return {}
    return dict(con.execute("""SELECT mart, rows FROM (
        SELECT mart, rows, row_number() OVER (PARTITION BY mart ORDER BY published_at DESC) AS n
        FROM audit.publishes) AS latest WHERE n = 1""").fetchall())


def _calendar_bounds(con, schema: str, marts: list[str]) -> dict[str, int]:
    """The row bound of each calendar-driven mart, from the mart it is a subset of."""
    out: dict[str, int] = {}
    for mart, (base, per_row) in suites.CALENDAR_DRIVEN_MARTS.items():
        if mart in marts and base in marts:
            out[mart] = per_row * con.execute(f"SELECT count(*) FROM {schema}.{base}").fetchone()[0]
    return out


def _reconciliations(con, marts: list[str], as_of: date) -> dict[str, dict[str, float]]:
    """Totals the marts must reproduce, computed from the raw layer's newest versions."""
    out: dict[str, dict[str, float]] = {}
    paid = """SELECT coalesce(sum(amount_jpy), 0) FROM staging.stg_billing__invoices
              WHERE status = 'paid' AND invoice_date > ?::DATE - {days} AND invoice_date <= ?::DATE"""
    if "customer_rfm" in marts:
        total = con.execute(paid.format(days=365), [as_of, as_of]).fetchone()[0]
        out["customer_rfm"] = {"monetary_jpy": float(total)}
    if "customer_ltv" in marts:
        total = con.execute("SELECT coalesce(sum(amount_jpy), 0) FROM staging.stg_billing__invoices "
                            "WHERE status = 'paid' AND invoice_date <= ?::DATE", [as_of]).fetchone()[0]
        out["customer_ltv"] = {"historical_ltv_jpy": float(total)}
    return out
