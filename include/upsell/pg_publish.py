"""Publish validated marts on the Postgres target: ``marts_build`` → ``marts`` in one transaction.

Write-audit-publish as on DuckDB: with the Postgres target dbt builds the marts into schema
``marts_build`` (``generate_schema_name``), which BI is not pointed at; validation reads
them there; then this step replaces every table of schema ``marts`` with a copy of its
``marts_build`` table **in one transaction** (Postgres DDL is transactional). A BI query
sees either all of last night's marts or all of tonight's, never a mix and never a
half-built table; a failed run changes nothing in ``marts``.

A copy rather than a schema rename: the incremental history marts accumulate in
``marts_build`` from night to night, so that schema must stay in place. A served table
whose columns (names, types, order) are unchanged is refilled in place (DELETE + INSERT,
MVCC-safe: a reader's snapshot keeps the old rows), so grants, comments and views that
BI users built on it survive. A mart whose columns changed is dropped and recreated; a
view on it then blocks the publish (Postgres refuses to drop it), and the whole publish
fails with the view named, rather than silently dropping someone's view. New tables get
BI access from ``ALTER DEFAULT PRIVILEGES ... IN SCHEMA marts`` (see README).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

log = logging.getLogger(__name__)

BUILD_SCHEMA = "marts_build"
SERVING_SCHEMA = "marts"

PUBLISHES_DDL = """CREATE TABLE IF NOT EXISTS audit.publishes (
    run_id VARCHAR NOT NULL, as_of_date DATE NOT NULL, mart VARCHAR NOT NULL,
    rows BIGINT NOT NULL, published_at TIMESTAMPTZ NOT NULL)"""


class PublishError(RuntimeError):
    """Nothing to publish (no marts built), or the copy failed (nothing was changed)."""


@dataclass
class PgPublishResult:
    schema: str
    rows: dict[str, int] = field(default_factory=dict)


def _tables(cur, schema: str) -> list[str]:
    cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "AND table_type = 'BASE TABLE' ORDER BY 1", [schema])
    return [r[0] for r in cur.fetchall()]


def _columns(cur, schema: str, table: str) -> list[tuple]:
    cur.execute("SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position", [schema, table])
    return cur.fetchall()


def _replace(cur, mart: str, served: bool) -> int:
    """Put ``marts_build.<mart>``'s rows into ``marts.<mart>`` (caller's transaction); row count."""
    target, source = f'{SERVING_SCHEMA}."{mart}"', f'{BUILD_SCHEMA}."{mart}"'
    if served and _columns(cur, SERVING_SCHEMA, mart) == _columns(cur, BUILD_SCHEMA, mart):
        cur.execute(f"DELETE FROM {target}")
        cur.execute(f"INSERT INTO {target} SELECT * FROM {source}")
        return cur.rowcount
    if served:
        import psycopg2.errors

        try:
            cur.execute(f"DROP TABLE {target}")
        except psycopg2.errors.DependentObjectsStillExist as exc:
            raise PublishError(
                f"the columns of mart {mart} changed, and objects depend on the served table, so it "
                f"cannot be replaced; nothing was published (drop or adapt them, then re-run): "
                f"{str(exc).strip()}") from exc
    cur.execute(f"CREATE TABLE {target} AS TABLE {source}")
    return cur.rowcount


def publish_postgres(run_id: str, as_of: date, pg=None) -> PgPublishResult:
    """Replace schema ``marts`` with the validated ``marts_build`` tables, atomically, and
    record the row counts in ``audit.publishes`` (the next run's row-count check)."""
    from upsell.target import pg_transaction

    result = PgPublishResult(SERVING_SCHEMA)
    published_at = datetime.now(UTC)
    with pg_transaction(pg) as pg, pg.cursor() as cur:
        marts = _tables(cur, BUILD_SCHEMA)
        if not marts:
            raise PublishError(f"schema {BUILD_SCHEMA} has no tables: nothing to publish")
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SERVING_SCHEMA}")
        # a mart removed from the project disappears from BI too, as on DuckDB
        for gone in sorted(set(_tables(cur, SERVING_SCHEMA)) - set(marts)):
            cur.execute(f'DROP TABLE {SERVING_SCHEMA}."{gone}"')
        served = set(_tables(cur, SERVING_SCHEMA))
        for mart in marts:
            result.rows[mart] = _replace(cur, mart, mart in served)
        cur.execute(PUBLISHES_DDL)
        cur.executemany("INSERT INTO audit.publishes VALUES (%s, %s, %s, %s, %s)",
                        [(run_id, as_of, mart, n, published_at) for mart, n in sorted(result.rows.items())])
    log.info("published %d marts to Postgres schema %s", len(result.rows), SERVING_SCHEMA)
    return result
