"""Publish validated marts to the serving location BI tools read.

Write-audit-publish: dbt writes marts into the warehouse (the *staging* location, which
BI never opens); they are copied into a brand-new serving DuckDB file and a new Parquet
folder (``stage_publish``: hidden names nobody reads; ``run_nightly`` copies while the marts
gate validates), which replace the published ones with atomic renames only after
validation has passed (``StagedPublish.commit``; ``discard`` otherwise).
A BI reader that has the old file open keeps reading the old, complete version (the
rename does not touch the open inode) and is never locked out — DuckDB allows one writer
per file, and the writer here never writes to a file a reader has open. New readers see
the new version, whole. On failure nothing is renamed: the previous marts stay served.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from upsell.warehouse import connect

log = logging.getLogger(__name__)

SERVING_FILE = "upsell.duckdb"  # not marts.duckdb: its catalog name would clash with schema marts
PARQUET_DIR = "parquet"
KEEP_PARQUET_VERSIONS = 3


@dataclass
class PublishResult:
    serving_file: Path
    parquet_dir: Path
    rows: dict[str, int] = field(default_factory=dict)


def default_serving_dir(warehouse: Path) -> Path:
    return Path(os.environ.get("UPSELL_SERVING_DIR") or Path(warehouse).resolve().parent / "serving")


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def publish(warehouse: Path, run_id: str, as_of: date, serving_dir: Path | None = None) -> PublishResult:
    """Copy the marts to a new version and switch BI over to it (:func:`stage_publish`,
    then :meth:`StagedPublish.commit`)."""
    return stage_publish(warehouse, run_id, as_of, serving_dir).commit()


@dataclass
class StagedPublish:
    """A complete copy of the marts, not yet served: a hidden DuckDB file and a Parquet
    version folder nobody reads. :meth:`commit` serves it; :meth:`discard` removes it."""

    warehouse: Path
    run_id: str
    as_of: date
    published_at: datetime
    serving_dir: Path
    version: str
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def tmp_file(self) -> Path:
        return self.serving_dir / f".{SERVING_FILE}.{self.version}.tmp"

    @property
    def parquet_version(self) -> Path:
        return self.serving_dir / PARQUET_DIR / "versions" / self.version

    def commit(self) -> PublishResult:
        """The two switches, each one atomic rename; then the audit record."""
        serving_file = self.serving_dir / SERVING_FILE
        os.replace(self.tmp_file, serving_file)
        current = self.serving_dir / PARQUET_DIR / "current"
        tmp_link = self.serving_dir / PARQUET_DIR / f".current.{self.version}"
        os.symlink(Path("versions") / self.version, tmp_link)
        os.replace(tmp_link, current)
        _prune(self.parquet_version.parent, keep=KEEP_PARQUET_VERSIONS, current=self.version)
        _record(self.warehouse, self.run_id, self.as_of, self.published_at, self.rows)
        log.info("published %d marts to %s and %s", len(self.rows), serving_file, current)
        return PublishResult(serving_file, current, self.rows)

    def discard(self) -> None:
        self.tmp_file.unlink(missing_ok=True)
        shutil.rmtree(self.parquet_version, ignore_errors=True)


def stage_publish(warehouse: Path, run_id: str, as_of: date, serving_dir: Path | None = None) -> StagedPublish:
    """Copy every table of the warehouse's ``marts`` schema into a new serving file and
    Parquet version, served by nothing yet. Reads the warehouse read-only, so it can run
    while the marts gate reads the same tables (``run_nightly`` does so)."""
    import duckdb

    serving_dir = Path(serving_dir or default_serving_dir(warehouse))
    serving_dir.mkdir(parents=True, exist_ok=True)
    published_at = datetime.now(UTC)
    version = f"{as_of.isoformat()}__{_safe(run_id)}__{published_at:%Y%m%dT%H%M%S%f}"
    staged = StagedPublish(Path(warehouse), run_id, as_of, published_at, serving_dir, version)
    parquet_version = staged.parquet_version
    parquet_version.mkdir(parents=True, exist_ok=True)

    con = duckdb.connect(str(staged.tmp_file))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"ATTACH '{Path(warehouse).resolve()}' AS wh (READ_ONLY)")
        marts = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'wh' "
            "AND table_schema = 'marts' ORDER BY 1").fetchall()]
        if not marts:
            raise RuntimeError(f"no marts to publish in {warehouse} (schema marts is empty)")
        db = con.execute("SELECT current_database()").fetchone()[0]
        con.execute(f'CREATE SCHEMA "{db}".marts')
        for mart in marts:
            con.execute(f'CREATE TABLE "{db}".marts.{mart} AS SELECT * FROM wh.marts.{mart}')
            staged.rows[mart] = con.execute(f'SELECT count(*) FROM "{db}".marts.{mart}').fetchone()[0]
            con.execute(f"""COPY "{db}".marts.{mart} TO '{parquet_version / (mart + '.parquet')}' (FORMAT parquet)""")
        con.execute(f"""CREATE TABLE "{db}".marts._publish AS
            SELECT ?::VARCHAR AS run_id, ?::DATE AS as_of_date, ?::TIMESTAMPTZ AS published_at""",
                    [run_id, as_of, published_at])
        con.execute("DETACH wh")
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        staged.discard()
        raise
    con.close()
    return staged


def _prune(root: Path, keep: int, current: str) -> None:
    """Drop old Parquet versions (a reader mid-read of one of the last few keeps working)."""
    versions = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in versions[:-keep]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)


def _record(warehouse: Path, run_id: str, as_of: date, published_at: datetime, rows: dict[str, int]) -> None:
    con = connect(warehouse)
    try:
        con.execute("""CREATE TABLE IF NOT EXISTS audit.publishes (
            run_id VARCHAR NOT NULL, as_of_date DATE NOT NULL, mart VARCHAR NOT NULL,
            rows BIGINT NOT NULL, published_at TIMESTAMPTZ NOT NULL)""")
        con.executemany("INSERT INTO audit.publishes VALUES (?, ?, ?, ?, ?)",
                        [[run_id, as_of, mart, n, published_at] for mart, n in sorted(rows.items())])
    finally:
        con.close()
