"""Throw-away PostgreSQL databases for the tests of the Postgres target.

Each test module gets its own database ``<prefix>_<random>`` on the server libpq's PG*
variables name (default 127.0.0.1:5432, user postgres), dropped afterwards. Without a
server the test is skipped with the reason, except on CI (``CI`` set), where it fails:
there the server is part of the environment. ``UPSELL_TEST_PG_PREFIX`` overrides the
prefix when several checkouts share one server.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import pytest


def pg_params(dbname: str) -> dict[str, str]:
    """psycopg2 connection parameters for ``dbname`` on the test server."""
    return {"host": os.environ.get("PGHOST", "127.0.0.1"), "port": os.environ.get("PGPORT", "5432"),
            "user": os.environ.get("PGUSER", "postgres"), "dbname": dbname}


@contextlib.contextmanager
def throwaway_database(default_prefix: str) -> Iterator[str]:
    """Create a fresh database, yield its name, drop it (even if connections remain)."""
    import psycopg2

    try:
        admin = psycopg2.connect(**pg_params("postgres"), connect_timeout=5)
    except psycopg2.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL is not reachable ({str(exc).strip()}); set PGHOST/PGPORT/PGUSER")
    admin.autocommit = True
    name = f"{os.environ.get('UPSELL_TEST_PG_PREFIX', default_prefix)}_{secrets.token_hex(4)}"
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
