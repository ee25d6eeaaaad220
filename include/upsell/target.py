"""Which warehouse the models are built in: the embedded DuckDB file (default) or Postgres.

Ingestion always parses, types, quarantines and audits in the DuckDB warehouse file (it is
the ingestion engine). With the Postgres target, each committed file load is then copied
to Postgres (``upsell.pg_load``) and dbt builds the marts there.

Postgres is configured only with libpq's standard variables (``PGHOST``, ``PGPORT``,
``PGUSER``, ``PGPASSWORD``, ``PGDATABASE``, ...): psycopg2 reads them itself and the dbt
profile's ``postgres`` output reads the same ones, so the loader and dbt can never point
at different databases.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

TARGETS = ("duckdb", "postgres")
TARGET_ENV = "UPSELL_TARGET"


class TargetError(ValueError):
    """An unknown target name, or Postgres unreachable when it is the target."""


def selected_target(explicit: str | None = None) -> str:
    """The target to build: ``explicit`` (``--target``), else ``$UPSELL_TARGET``, else duckdb."""
    name = (explicit or os.environ.get(TARGET_ENV) or "duckdb").strip().lower()
    if name not in TARGETS:
        raise TargetError(f"unknown warehouse target {name!r}: expected one of {', '.join(TARGETS)} "
                          f"(--target or ${TARGET_ENV})")
    return name


def pg_settings() -> dict[str, str]:
    """The connection the Postgres target uses, as libpq resolves it (for messages and dbt).

    Defaults match the dbt profile: 127.0.0.1:5432, user postgres, database upsell.
    """
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": os.environ.get("PGPORT", "5432"),
        "user": os.environ.get("PGUSER", "postgres"),
        "dbname": os.environ.get("PGDATABASE", "upsell"),
    }


def pg_connect(autocommit: bool = False):
    """A psycopg2 connection to the Postgres warehouse (session time zone UTC, like DuckDB's).

    Raises TargetError naming the host and database when the server cannot be reached.
    """
    import psycopg2

    settings = pg_settings()
    try:
        # explicit keywords for what has a default above; everything else (password,
        # sslmode, ...) comes from the PG* environment through libpq
        con = psycopg2.connect(**settings, options="-c TimeZone=UTC")
    except psycopg2.OperationalError as exc:
        raise TargetError(
            f"cannot connect to the Postgres warehouse {settings['user']}@{settings['host']}:"
            f"{settings['port']}/{settings['dbname']} (set PGHOST, PGPORT, PGUSER, PGPASSWORD, "
            f"PGDATABASE): {str(exc).strip()}") from exc
    con.autocommit = autocommit
    return con


@contextmanager
def pg_transaction(pg=None):
    """``pg`` (or a new connection from :func:`pg_connect`) for one unit of work: committed
    when the block succeeds, rolled back when it raises, closed only if opened here (a
    caller's connection stays open for its next step)."""
    own = pg is None
    pg = pg or pg_connect()
    try:
        yield pg
        pg.commit()
    except BaseException:
        pg.rollback()
        raise
    finally:
        if own:
            pg.close()
