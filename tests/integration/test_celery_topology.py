"""The docker-compose topology, run as local processes: CeleryExecutor on Redis, metadata on
PostgreSQL, api-server + scheduler + dag-processor + one Celery worker with two slots.

"Exactly as the compose file configures it": the environment of every component is the
compose file's own (read and interpolated by compose_file.py from a test .env built on
.env.example), with only what a container provides replaced by its local equivalent:
service host names by 127.0.0.1 (Redis databases 5 and 6 instead of 0 and 1, a database
``topology_<random>`` in the machine's PostgreSQL), container paths by the host folders
mounted there (named volumes by temporary folders), and fixed ports by free ones (the
machine is shared). airflow-init's script runs as written (translated the same way), and
each component's compose health check is run natively to decide that it is up.

One deliberate addition: ``AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE=False``, so that unpausing
the DAG does not also start the scheduled run of today's interval beside the one triggered.

The run: ``upsell_nightly`` triggered (``as_of`` 2026-10-31) on the bundled S sample. Checked: the run succeeds; the served marts are as of 2026-10-31;
the worker had two processes, yet no two tasks of the ``upsell_duckdb`` pool overlapped in
time, although four ingest tasks were ready at once; the dbt model watchers ran outside the
pool, after the build; and the tasks went through Celery (results in the Redis result
backend). Takes ~10 min here, ~25 min under heavy load (114 tasks, each its own process, those
of the pool one at a time; a shared 2-core machine). Skips when PostgreSQL or Redis is unreachable,
unless ``CI`` is set: then it fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import psycopg2
import pytest
import redis
from cryptography.fernet import Fernet

from tests.integration.airflow_procs import BIN, airflow, free_port, start, stop, wait_until
from tests.integration.compose_file import ENV_EXAMPLE, REPO, environment, is_bind, load, mounts, read_env_file
from upsell.dag_support import COSMOS_CACHE_ID

pytestmark = pytest.mark.slow

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# compose's Redis database -> this test's (the machine's Redis is shared with other tests)
REDIS_DBS = {0: 5, 1: 6}
DAG_ID = "upsell_nightly"
LOGICAL_DATE = "2026-11-01T00:00:00+00:00"
AS_OF = date(2026, 10, 31)
RUN_ID = "topology__2026-10-31"
POOL = "upsell_duckdb"
COMPONENTS = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker")
RUN_TIMEOUT_S = 2400  # ~19 min measured at a load average of 17 on 2 cores (114 tasks)
CELERY_APP = "airflow.providers.celery.executors.celery_executor.app"


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the topology test must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def services() -> None:
    """PostgreSQL and Redis on this machine, or a skip (a failure under CI)."""
    try:
        psycopg2.connect(dbname="postgres", connect_timeout=5, **PG).close()
    except psycopg2.OperationalError as exc:
        unavailable(f"PostgreSQL not reachable at {PG['host']}:{PG['port']} as {PG['user']}: {exc}")
    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis not reachable at {REDIS_HOST}:{REDIS_PORT}: {exc}")


def admin(sql: str) -> None:
    """CREATE/DROP DATABASE: outside a transaction (autocommit, no `with connection`)."""
    con = psycopg2.connect(dbname="postgres", **PG)
    con.autocommit = True
    try:
        con.cursor().execute(sql)
    finally:
        con.close()


def flush_redis() -> None:
    for db in REDIS_DBS.values():
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db).flushdb()


class NativeTopology:
    """The compose file's services translated to this machine (see the module docstring)."""

    def __init__(self, root: Path, database: str) -> None:
        self.root = root
        landing = root / "landing"
        shutil.copytree(REPO / "include" / "sample", landing)
        self.warehouse_dir = root / "warehouse"
        self.ports = {"api": free_port(), "scheduler_health": free_port(), "worker_logs": free_port()}
        dotenv = {
            **read_env_file(ENV_EXAMPLE),
            "POSTGRES_USER": PG["user"],
            "POSTGRES_PASSWORD": "unused-trust-auth",  # the local server trusts 127.0.0.1
            "POSTGRES_DB": database,
            "AIRFLOW_ADMIN_PASSWORD": secrets.token_hex(8),
            "AIRFLOW_FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW_API_SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW_JWT_SECRET": secrets.token_hex(16),
            "UPSELL_EMAIL_SALT": "topology-test-salt",
            "UPSELL_LANDING_HOST_DIR": str(landing),
            "UPSELL_WAREHOUSE_HOST_DIR": str(self.warehouse_dir),
            "AIRFLOW_UID": str(os.getuid()),
        }
        self.compose = load(dotenv)
        self.substitutions = self._substitutions()

    def _substitutions(self) -> list[tuple[re.Pattern, str]]:
        """(pattern, replacement) turning a container-side string into the local one."""
        subs: list[tuple[str, str]] = []
        mounted: dict[str, str] = {}
        for service in self.compose["services"].values():
            for source, target, _ in mounts(service):
                if target.startswith(("/opt/", "/data/")):
                    host = (REPO / source).resolve() if is_bind(source) else self.root / "volumes" / source
                    mounted[target] = str(host)
        for target in sorted(mounted, key=len, reverse=True):  # /opt/project/x before /opt/project
            subs.append((re.escape(target) + r"(?=[/:\s'\"]|$)", mounted[target]))
        for compose_db, local_db in REDIS_DBS.items():
            subs.append((rf"redis://redis:6379/{compose_db}\b", f"redis://{REDIS_HOST}:{REDIS_PORT}/{local_db}"))
        subs += [
            (r"@postgres:5432/", f"@{PG['host']}:{PG['port']}/"),
            (r"http://airflow-apiserver:8080/", f"http://127.0.0.1:{self.ports['api']}/"),
            (r"localhost:8080/", f"127.0.0.1:{self.ports['api']}/"),
            (r"localhost:8974/", f"127.0.0.1:{self.ports['scheduler_health']}/"),
        ]
        return [(re.compile(p), r) for p, r in subs]

    def native(self, value: str) -> str:
        for pattern, replacement in self.substitutions:
            value = pattern.sub(lambda _m, r=replacement: r, value)
        left = re.search(r"(//|@)(postgres|redis|airflow-apiserver):\d+(/|$)|localhost:\d+|(?<![\w.])/(opt|data)/", value)
        assert not left, f"untranslated container reference {left[0]!r} in {value!r}"
        return value

    def env(self, service: str) -> dict[str, str]:
        """The service's compose environment, translated, plus what the image sets (its ENV)
        and the free ports."""
        env = {k: self.native(v) for k, v in environment(self.compose["services"][service]).items()}
        home = self.root / "airflow_home"
        home.mkdir(exist_ok=True)
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "UPSELL_"))},
            **env,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # the image's /opt/venv/bin first
            "AIRFLOW_HOME": str(home),
            "PYTHONUNBUFFERED": "1",
            "AIRFLOW__API__PORT": str(self.ports["api"]),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(self.ports["scheduler_health"]),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.ports["worker_logs"]),
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        }

    def command(self, service: str) -> list[str]:
        """`command:` after the image's entrypoint (`airflow`)."""
        return [str(BIN / "airflow"), *self.compose["services"][service]["command"].split()]

    def init_script(self) -> str:
        entry, script = self.compose["services"]["airflow-init"]["command"]
        assert entry == "-c"
        return self.native(script)

    def healthcheck(self, service: str) -> tuple[list[str], dict[str, str]]:
        """The service's compose health check as a local command. $HOSTNAME is what the
        component registered under (in a container both are the container's host name)."""
        kind, *rest = self.compose["services"][service]["healthcheck"]["test"]
        argv = [self.native(a) for a in rest] if kind == "CMD" else ["/bin/sh", "-c", self.native(rest[0])]
        env = self.env(service)
        if service == "airflow-worker":
            env["HOSTNAME"] = socket.gethostname()  # Celery's node name: celery@%h
        else:
            env["HOSTNAME"] = subprocess.run([sys.executable, "-c", "from airflow.utils.net import get_hostname; "
                                              "print(get_hostname())"], env=env, capture_output=True, text=True,
                                             check=True).stdout.strip()
        return argv, env


def healthy(argv: list[str], env: dict[str, str]) -> bool:
    return subprocess.run(argv, env=env, capture_output=True, timeout=120).returncode == 0


@pytest.fixture(scope="module")
def topology(services, tmp_path_factory):
    """Init, then the four components running; yields (topology, database, logs) and stops
    every process and drops the database afterwards, whatever happens."""
    root = tmp_path_factory.mktemp("topology")
    database = f"topology_{secrets.token_hex(4)}"
    topo = NativeTopology(root, database)
    logs = root / "logs"
    logs.mkdir()
    flush_redis()
    admin(f'CREATE DATABASE "{database}"')
    components: list[subprocess.Popen] = []
    try:
        init = subprocess.run(["bash", "-c", topo.init_script()], env=topo.env("airflow-init"),
                              capture_output=True, text=True, timeout=900)
        assert init.returncode == 0, f"airflow-init:\n{init.stdout[-3000:]}{init.stderr[-3000:]}"
        assert "airflow-init done" in init.stdout
        for service in COMPONENTS:
            components.append(start(topo.command(service), topo.env(service), logs / f"{service}.log"))
        for service in COMPONENTS:
            argv, env = topo.healthcheck(service)
            wait_until(lambda argv=argv, env=env: healthy(argv, env), 300, f"{service} health check", components,
                       logs, interval=5)
        yield topo, database, logs, components
    finally:
        for proc in reversed(components):
            stop(proc)
        flush_redis()
        admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def metadata(database: str, sql: str, params: tuple = ()) -> list[tuple]:
    con = psycopg2.connect(dbname=database, **PG)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


def test_nightly_run_on_the_celery_topology(topology):
    topo, database, logs, components = topology
    env = topo.env("airflow-scheduler")

    # the admin user of .env, as the simple auth manager's passwords file
    passwords = json.loads((topo.root / "volumes" / "airflow-auth" / "passwords.json").read_text())
    assert set(passwords) == {"admin"}

    # the worker: two processes, as the compose file's concurrency says
    assert topo.env("airflow-worker")["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "2"
    stats = subprocess.run([str(BIN / "celery"), "--app", CELERY_APP, "inspect", "stats", "--json"],
                           env=topo.env("airflow-worker"), capture_output=True, text=True, timeout=120)
    assert stats.returncode == 0, stats.stdout + stats.stderr
    reply = next(line for line in reversed(stats.stdout.splitlines()) if line.startswith("{"))  # after log lines
    (worker_stats,) = json.loads(reply).values()
    assert worker_stats["pool"]["max-concurrency"] == 2
    assert len(worker_stats["pool"]["processes"]) == 2

    # the dag-processor serializes the DAG into the metadata DB; then unpause and trigger
    wait_until(lambda: bool(metadata(database, "SELECT 1 FROM dag WHERE dag_id = %s", (DAG_ID,))), 600,
               "the dag-processor to parse upsell_nightly", components, logs, interval=5)
    airflow(env, "dags", "unpause", DAG_ID)
    # a manual trigger computes as of the day before it runs (its run_after), whatever its
    # logical date: name the sample's as-of date with the DAG's `as_of` param
    airflow(env, "dags", "trigger", DAG_ID, "--logical-date", LOGICAL_DATE, "--run-id", RUN_ID,
            "--conf", json.dumps({"as_of": AS_OF.isoformat()}))

    def finished() -> bool:
        rows = metadata(database, "SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", (DAG_ID, RUN_ID))
        return bool(rows) and rows[0][0] in ("success", "failed")

    started = time.monotonic()
    wait_until(finished, RUN_TIMEOUT_S, f"{RUN_ID} to finish", components, logs, interval=10)
    print(f"{RUN_ID} finished in {time.monotonic() - started:.0f} s")

    tis = metadata(database, "SELECT task_id, map_index, pool, state, start_date, end_date, hostname "
                   "FROM task_instance WHERE dag_id = %s AND run_id = %s ORDER BY start_date", (DAG_ID, RUN_ID))
    (state,) = metadata(database, "SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", (DAG_ID, RUN_ID))[0]
    assert state == "success", [(t[0], t[3]) for t in tis if t[3] != "success"]

    # airflow-init seeded Cosmos' cache with a parse for this warehouse: the first night's
    # dbt producer kept it instead of parsing the whole project
    producer_logs = [p for p in (topo.root / "volumes" / "airflow-logs").rglob("attempt=*.log")
                     if "task_id=dbt.dbt_producer_watcher" in str(p)]
    assert producer_logs, "no log of the dbt producer"
    producer_log = "".join(p.read_text(errors="replace") for p in producer_logs)
    seeded = f"{COSMOS_CACHE_ID}/target/partial_parse.msgpack"
    assert re.search(r"latest partial parse file is \S*" + re.escape(seeded), producer_log), producer_log[-3000:]
    assert "Unable to do partial parsing" not in producer_log

    # the served marts: as of 2026-10-31, with customers
    serving = topo.warehouse_dir / "serving" / "upsell.duckdb"
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("SELECT as_of_date FROM marts._publish").fetchall() == [(AS_OF,)]
        assert con.execute("SELECT count(*) FROM marts.customer_rfm").fetchone()[0] > 0

    # single writer: no two tasks of the pool overlapped, with two worker slots available
    # and four ingest tasks ready at the same moment (each needs only discover)
    ran = [t for t in tis if t[4] is not None and t[5] is not None]
    pooled = sorted((t for t in ran if t[2] == POOL), key=lambda t: t[4])
    names = {t[0] for t in pooled}
    assert {"discover", "ingest.crm", "ingest.billing", "ingest.email", "ingest.plan", "validate_raw", "validate",
            "publish"} <= names, names
    assert any(n.startswith("dbt.") for n in names), names
    overlaps = [(a[0], b[0]) for a, b in zip(pooled, pooled[1:], strict=False) if b[4] < a[5]]
    assert not overlaps, f"tasks of pool {POOL} overlapped: {overlaps}"
    # the model watchers (XCom readers unless they fall back to dbt, which then waits for the
    # warehouse's dbt lock) ran outside the pool, after the build
    watchers = [t for t in ran if t[0].startswith("dbt.") and t[0].endswith(("_run", "_seed"))]
    assert watchers and {t[2] for t in watchers} == {"default_pool"}, {t[2] for t in watchers}
    producer_end = next(t[5] for t in pooled if t[0] == "dbt.dbt_producer_watcher")
    assert all(t[4] >= producer_end for t in watchers)
    discover_end = next(t[5] for t in pooled if t[0] == "discover")
    ingests = [t for t in pooled if t[0].startswith("ingest.")]
    assert all(t[4] >= discover_end for t in ingests)

    # through Celery: a result in the Redis result backend for each task the worker ran
    backend = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DBS[1])
    results = [json.loads(backend.get(k)) for k in backend.scan_iter("celery-task-meta-*")]
    assert len(results) >= len(pooled), (len(results), len(pooled))
    # the last task's result may still read STARTED: its task instance reports success to
    # the API server (and the run finishes) before the Celery task itself returns
    assert {r["status"] for r in results} <= {"SUCCESS", "STARTED"}, [r["status"] for r in results]
    assert sum(r["status"] == "SUCCESS" for r in results) >= len(pooled) - 1
    assert "received" in (logs / "airflow-worker.log").read_text().lower()
