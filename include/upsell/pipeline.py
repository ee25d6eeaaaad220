"""The nightly job as plain functions: the CLI calls ``run_nightly``; the DAG calls the steps.

The DAG's tasks call the same steps (ingest, the gates, dbt, publish), so the command line
and Airflow run the same code.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from upsell.ingest import IngestResult, ingest
from upsell.pg_load import CopyResult, copy_to_postgres
from upsell.pg_publish import PgPublishResult, publish_postgres
from upsell.publish import PublishResult, stage_publish
from upsell.report import build_report
from upsell.target import selected_target
from upsell.transform import NIGHTLY_BUILD_FLAGS, DbtResult, PreparedDbt, dbt_work_dir, run_dbt
from upsell.validate import ValidationReport, validate_marts, validate_raw

if TYPE_CHECKING:
    from upsell.report.build import ReportResult

log = logging.getLogger(__name__)
T = TypeVar("T")


class ValidationFailed(RuntimeError):
    """Error-level expectations failed: nothing was published."""

    def __init__(self, reports: list[ValidationReport]) -> None:
        self.reports = reports
        failures = [f for r in reports for f in r.failures]
        docs = next((r.data_docs for r in reports if r.data_docs), None)
        super().__init__(
            f"{len(failures)} error-level expectation(s) failed; the previously published marts stay served.\n"
            + "\n".join(f"  - {f}" for f in failures)
            + (f"\n  Data Docs: file://{docs}" if docs else ""))


@dataclass
class RunResult:
    as_of: date
    run_id: str
    ingest: IngestResult
    dbt: DbtResult | None = None
    validations: list[ValidationReport] | None = None
    published: PublishResult | None = None
    report: ReportResult | None = None
    target: str = "duckdb"
    copied: CopyResult | None = None  # file loads copied to Postgres (postgres target)

    pg_published: PgPublishResult | None = None  # marts_build → marts (postgres target)

    @property
    def ok(self) -> bool:
        return self.published is not None or self.pg_published is not None


def default_run_id(as_of: date) -> str:
    """Deterministic id for a manual run of one as-of date (no wall clock: re-runs match)."""
    return f"manual__{as_of.isoformat()}"


Stage = Callable[[str], contextlib.AbstractContextManager]  # a context manager per named step


def _no_stage(_name: str) -> contextlib.AbstractContextManager:
    return contextlib.nullcontext()


def run_nightly(landing: Path, warehouse: Path, as_of: date, run_id: str | None = None,
                tz: str = "Asia/Tokyo", mapping_dirs: list[Path] | None = None,
                serving_dir: Path | None = None, progress=None, target: str | None = None,
                full_refresh: bool = False, stage: Stage | None = None) -> RunResult:
    """ingest → validate raw → dbt build → validate marts → publish → report. Raises on
    failure; publishes only when every error-level expectation and every dbt test passed.

    ``target`` (default ``$UPSELL_TARGET``, else duckdb): with ``postgres``, ingestion still
    runs in the DuckDB file, each committed file load is then copied to Postgres, and dbt
    builds the marts in Postgres schema ``marts_build``; the same suites validate them
    there, and publish replaces schema ``marts`` with them in one transaction (the HTML report
    reads the served DuckDB file, so it is built for the DuckDB target only).
    ``full_refresh`` rebuilds the incremental staging tables from raw (history is kept).
    ``stage(name)``, a context manager around each step (the benchmark's clock), names them
    ingest, validate_raw, dbt_build, validate_marts, publish and report.

    On DuckDB the dbt child starts when ingestion has finished: it imports dbt and parses
    the project beside the raw gate (≈ 3 s of single-threaded Python that needs no data,
    on the core GX's single-threaded validation leaves idle), then waits until the gate has
    passed (:class:`upsell.transform.PreparedDbt`). The gates' Data Docs pages are rendered
    on threads during the next step, and publish's copy of the marts is made during the
    marts gate and served only after it has passed.
    """
    stage = stage or _no_stage
    target = selected_target(target)
    run_id = run_id or default_run_id(as_of)
    if target == "postgres":
        return _run_postgres(landing, warehouse, as_of, run_id, tz, mapping_dirs, progress, full_refresh, stage)
    result = _ingest(landing, warehouse, as_of, run_id, tz, mapping_dirs, progress, stage, target)
    # the dbt child starts after ingestion, not before it: ingestion keeps both cores busy
    # (a parse beside it slowed it by as much as the parse took), the raw gate only one
    with prepare_build(warehouse, as_of, tz, full_refresh) as dbt:
        _gate_raw(result, warehouse, tz, stage, render_docs=False)
        # the raw gate's Data Docs pages are rendered while dbt builds: this process only waits then
        with stage("dbt_build"), beside(result.validations[0].render_docs, name="raw-data-docs"):
            result.dbt = dbt.run()
    # Publish's copy of the marts (DuckDB work, the GIL released) runs beside the marts gate
    # (GX's Python): nothing is served before the gate has passed — the copy has hidden
    # names until commit() renames it into place, and is removed if the gate fails.
    with stage("validate_marts"), beside(stage_publish, warehouse, run_id, as_of, serving_dir,
                                         name="publish-copy") as copy:
        try:
            marts = validate_marts(warehouse, run_id, as_of, render_docs=False)
            result.validations.append(marts)
            if not marts.success:
                marts.render_docs()
            check(result.validations)
        except BaseException:
            _discard(copy)
            raise
    # the marts gate's Data Docs pages are rendered while the report is built
    with beside(marts.render_docs, name="marts-data-docs"):
        with stage("publish"):
            result.published = copy.result().commit()
        with stage("report"):
            # the managers' report reads what was just served (the published file, not the warehouse)
            result.report = build_report(result.published.serving_file.parent)
    return result


def _discard(copy: Future) -> None:
    """Remove a publish copy that must not be served (after it has finished, either way)."""
    try:
        copy.result().discard()
    except Exception:  # a failed copy removed its own files; the gate's error is the one to raise
        log.warning("the publish copy failed too", exc_info=True)


def _ingest(landing, warehouse, as_of, run_id, tz, mapping_dirs, progress, stage, target) -> RunResult:
    with stage("ingest"):
        return RunResult(as_of, run_id, ingest(landing, warehouse, run_id, tz=tz, mapping_dirs=mapping_dirs,
                                               progress=progress), target=target)


def _gate_raw(result: RunResult, warehouse, tz, stage, render_docs: bool = True) -> None:
    with stage("validate_raw"):
        raw = validate_raw(warehouse, result.run_id, result.as_of, tz, render_docs=render_docs)
        result.validations = [raw]
        if not raw.success:
            raw.render_docs()  # the failures' pages, before stopping
        check(result.validations)  # bad raw data stops here, before it reaches any model


@contextlib.contextmanager
def beside(work: Callable[..., T], *args, name: str) -> Iterator[Future[T]]:
    """Run ``work(*args)`` on a thread while the block runs and yield its future; wait for
    it at the end of the block, then raise what it raised (the block's own exception, if
    any, wins)."""
    with ThreadPoolExecutor(1, thread_name_prefix=name) as pool:
        future = pool.submit(work, *args)
        yield future
    future.result()


def _run_postgres(landing, warehouse, as_of, run_id, tz, mapping_dirs, progress, full_refresh, stage) -> RunResult:
    result = _ingest(landing, warehouse, as_of, run_id, tz, mapping_dirs, progress, stage, "postgres")
    _gate_raw(result, warehouse, tz, stage)
    # the raw rows just validated, copied file by file with reconciled counts
    result.copied = copy_to_postgres(warehouse)
    with stage("dbt_build"):
        result.dbt = build(warehouse, as_of, tz, "postgres", full_refresh)
    with stage("validate_marts"):
        result.validations.append(validate_marts(warehouse, run_id, as_of, "postgres"))
        check(result.validations)
    with stage("publish"):
        result.pg_published = publish_postgres(run_id, as_of)
    return result


def prepare_build(warehouse: Path, as_of: date, tz: str = "Asia/Tokyo", full_refresh: bool = False) -> PreparedDbt:
    """The DuckDB build of :func:`build`, started now and run later (:class:`PreparedDbt`)."""
    return PreparedDbt("build", warehouse, as_of, extra=_build_flags(full_refresh), vars_={"business_tz": tz})


def _build_flags(full_refresh: bool) -> list[str]:
    return (["--full-refresh"] if full_refresh else []) + NIGHTLY_BUILD_FLAGS


# dbt-postgres runs no Python models: on Postgres the predictive CLV fit/score runs in
# Python between two builds (upsell.pg_clv; the selectors are in dbt_project/selectors.yml)
PG_BUILD_SELECTORS = ("clv_inputs", "after_clv_inputs")


def build(warehouse: Path, as_of: date, tz: str = "Asia/Tokyo", target: str = "duckdb",
          full_refresh: bool = False) -> DbtResult:
    """dbt build of every model and data test (unit tests: see NIGHTLY_BUILD_FLAGS).

    DuckDB: one ``dbt build`` (the CLV models are dbt Python models). Postgres: ``dbt build
    --selector clv_inputs``, the CLV step in Python (:func:`upsell.pg_clv.run_clv_step`),
    ``dbt build --selector after_clv_inputs``; the result sums both builds' counts.
    Incremental models update in place unless ``full_refresh`` (models with
    ``full_refresh=false``, the history snapshots, never reset)."""
    vars_ = {"business_tz": tz}
    refresh = _build_flags(full_refresh)
    if target != "postgres":
        return run_dbt("build", warehouse, as_of, extra=refresh or None, vars_=vars_, target=target)
    from upsell.pg_clv import run_clv_step  # pandas/scipy: only when this target runs

    first, rest = PG_BUILD_SELECTORS
    before = run_dbt("build", warehouse, as_of, extra=["--selector", first, *refresh], vars_=vars_, target=target)
    run_clv_step(dbt_work_dir(warehouse, target) / "target" / "manifest.json")
    after = run_dbt("build", warehouse, as_of, extra=["--selector", rest, *refresh], vars_=vars_, target=target)
    return merge_results(before, after)


def merge_results(*results: DbtResult) -> DbtResult:
    """One summary of consecutive dbt invocations (counts per status added up)."""
    merged = DbtResult(success=all(r.success for r in results))
    for r in results:
        merged.failures += r.failures
        for status, n in r.counts.items():
            merged.counts[status] = merged.counts.get(status, 0) + n
    return merged


def check(reports: list[ValidationReport]) -> None:
    """Raise ValidationFailed when any report has an error-level failure."""
    if any(not r.success for r in reports):
        raise ValidationFailed(reports)
