"""Airflow glue for ``dags/upsell_nightly.py``: pool, Assets, the Cosmos dbt task group,
run-time settings and the failure callback. Imported at DAG-parse time, so it stays
cheap: it reads the pre-built dbt manifest (no ``dbt ls``) and never touches data.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
MANIFEST = Path(os.environ.get("UPSELL_DBT_MANIFEST", DBT_PROJECT / "target" / "manifest.json"))
POOL = "upsell_duckdb"
# The dbt producer's profile and target, and the Cosmos cache folder of its task group
# (``<dag_id>__<group_id>``, where Cosmos looks for a partial-parse file; upsell.cosmos_parse)
DBT_PROFILE, DBT_TARGET = "upsell_warehouse", "duckdb"
NIGHTLY_DAG_ID, DBT_GROUP_ID = "upsell_nightly", "dbt"
COSMOS_CACHE_ID = f"{NIGHTLY_DAG_ID}__{DBT_GROUP_ID}"
# Settings an Airflow Variable of the lower-case name may override at task run time. Not the
# warehouse, serving folder or time zone: they are also read when the DAG file is parsed
# (the dbt tasks' target, the Asset URIs, the timetable, the as-of date), so a Variable
# would make some tasks use another file or day than the others. Those come from the
# environment only (of the scheduler, dag-processor and workers alike).
SETTINGS = ("UPSELL_LANDING", "UPSELL_HEADER_MAPPINGS", "UPSELL_EMAIL_SALT")


def local_airflow_settings(home: Path) -> dict[str, str]:
    """The Airflow settings of ``make run`` (the Makefile's AIRFLOW_ENV) for an Airflow home,
    as the tests and the benchmark run the DAG: this repository's dags/, no examples or
    telemetry; Cosmos without its "reliable retry" (which rewrites one Variable of every
    node status at each XCom push, README "Configuration") and with a cache of this home's
    own (not /tmp/cosmos, whose newest partial parse any other run on the machine may
    have written)."""
    return {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY": "False",
            "AIRFLOW__COSMOS__CACHE_DIR": str(Path(home) / "cosmos"), "DO_NOT_TRACK": "1"}


def producer_vars() -> dict[str, str]:
    """The ``--vars`` of the DAG's dbt build (the as-of date goes in the environment)."""
    return {"business_tz": os.environ.get("UPSELL_BUSINESS_TZ", "Asia/Tokyo")}


def runtime_settings() -> None:
    """At task run time: Airflow Variables (``upsell_landing``, ``upsell_header_mappings``,
    ``upsell_email_salt``) override the environment, and the email-hash salt is made
    available (created beside the warehouse if unset)."""
    from airflow.sdk import Variable

    for name in SETTINGS:
        value = Variable.get(name.lower(), default=None)
        if value:
            os.environ[name] = value
    from upsell.tasks import warehouse_path
    from upsell.transform import SALT_ENV, ensure_salt

    os.environ[SALT_ENV] = ensure_salt(warehouse_path())


def email_salt() -> str:
    """Jinja macro for the dbt tasks' environment, rendered on the worker at run time."""
    runtime_settings()
    return os.environ["UPSELL_EMAIL_SALT"]


def _manifest_marts() -> list[str]:
    """Mart names from the pre-built manifest (models under models/marts/)."""
    if not MANIFEST.exists():
        return []
    nodes = json.loads(MANIFEST.read_text())["nodes"].values()
    return sorted(n["name"] for n in nodes
                  if n["resource_type"] == "model" and n["original_file_path"].startswith("models/marts/"))


def serving_dir() -> Path:
    default = Path(os.environ.get("UPSELL_WAREHOUSE", REPO / "var" / "warehouse.duckdb")).resolve().parent / "serving"
    return Path(os.environ.get("UPSELL_SERVING_DIR") or default)


def mart_assets() -> list:
    """One Asset per published mart (see ``mart_asset``)."""
    return [mart_asset(mart) for mart in _manifest_marts()]


def mart_asset(mart: str):
    """The Asset of a published mart: the URI of its served Parquet file (a history mart's
    folder of snapshot files, ``upsell.publish.parquet_path``). The name is the
    URI (Airflow's default), so two deployments with different serving folders sharing one
    metadata DB never claim the same asset name for different files."""
    from airflow.sdk import Asset

    from upsell.publish import parquet_path

    return Asset(uri=f"file://{serving_dir() / 'parquet' / 'current' / parquet_path(mart)}", group="upsell_marts")


def dbt_task_group(as_of: str):
    """dbt models and tests as Airflow tasks (Cosmos), rendered from the pre-built manifest.

    Execution mode WATCHER: one producer task runs a single ``dbt build`` (one dbt start-up,
    one DuckDB writer) and one watcher task per model turns green or red as dbt reports it,
    so a failing model is a visible failed task and a cleared task re-runs that model alone.

    Every model keeps its watcher, staging and intermediate ones too, although they cost
    ≈ 0.15 s each in ``dags test``: a watcher whose model failed or was skipped re-runs that
    model alone on its retry (Cosmos skips a retried producer), in the graph's order. With
    watchers for the marts only, that retry would build a mart from the previous night's
    intermediate tables (tried and reverted, docs/benchmarks.md, fifth round).

    The data tests run inside that same build (a failing error-level test fails the
    producer, names the test in its log and skips the models downstream of it), but get no
    task of their own unless ``UPSELL_AIRFLOW_TEST_TASKS=1``: a test watcher per model is
    54 more Airflow tasks (≈ 0.13 s each; ``dags test`` at M 91.9 s with them, 87.7 s
    without, docs/benchmarks.md) for what the producer's log already says.
    """
    import cosmos  # noqa: F401  (import the package first: cosmos.constants alone hits a circular import)
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    from upsell.transform import AS_OF_ENV, NIGHTLY_BUILD_FLAGS

    if not MANIFEST.exists():
        raise FileNotFoundError(
            f"dbt manifest not found at {MANIFEST}: run `make manifest` (dbt parse) before starting Airflow")
    # dbt behind an exclusive lock on the warehouse (upsell.dbt_lock): the watchers are not
    # in the one-slot pool (below), and their fallback runs dbt
    dbt_exe = Path(os.sys.executable).with_name("upsell-dbt")
    test_tasks = os.environ.get("UPSELL_AIRFLOW_TEST_TASKS") == "1"
    # With TestBehavior.NONE Cosmos narrows the producer's build to models, seeds and
    # snapshots (--resource-type each); naming tests too keeps them in the one build.
    build_flags = NIGHTLY_BUILD_FLAGS if test_tasks else [*NIGHTLY_BUILD_FLAGS, "--resource-type", "test"]
    group = DbtTaskGroup(
        group_id=DBT_GROUP_ID,
        project_config=ProjectConfig(dbt_project_path=DBT_PROJECT, manifest_path=MANIFEST,
                                     partial_parse=True),
        profile_config=ProfileConfig(profile_name=DBT_PROFILE, target_name=DBT_TARGET,
                                     profiles_yml_filepath=DBT_PROJECT / "profiles.yml"),
        # dbt in a child process: in-process (dbtRunner) dbt-duckdb keeps the warehouse open
        # for the life of the task process, locking the file for the next tasks.
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.WATCHER, dbt_executable_path=str(dbt_exe),
                                         invocation_mode=InvocationMode.SUBPROCESS),
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST,
                                   # No Asset event per model: a table dbt has just built is not
                                   # validated yet. Consumers' Assets are the published marts
                                   # (``publish``, after the marts gate); Cosmos' per-model events
                                   # (duckdb://… URIs) would announce data the gate may still
                                   # reject, and cost API calls in every watcher.
                                   emit_datasets=False,
                                   test_behavior=TestBehavior.AFTER_EACH if test_tasks else TestBehavior.NONE),
        operator_args={
            "pool": POOL,
            # the as-of date goes in the environment, not --vars (see upsell.transform.AS_OF_ENV)
            "vars": producer_vars(),
            "env": {AS_OF_ENV: as_of, "UPSELL_EMAIL_SALT": "{{ upsell_email_salt() }}",
                    "UPSELL_WAREHOUSE": str(Path(os.environ.get("UPSELL_WAREHOUSE", REPO / "var" / "warehouse.duckdb"))
                                            .resolve())},
            "append_env": True,
            "dbt_cmd_flags": build_flags,
            # the producer has finished when a watcher runs (see below): no need to defer
            "deferrable": False,
            "poke_interval": 5,
        },
    )
    tasks = _group_tasks(group)
    _watchers_after_producer(group, tasks)
    _watchers_outside_writer_pool(tasks)
    return group


def _group_tasks(group) -> dict:
    """Every task of a task group and its nested groups, by task id."""

    def walk(node):
        for child in node.children.values():
            if hasattr(child, "children"):
                yield from walk(child)
            else:
                yield child

    return {t.task_id: t for t in walk(group)}


# Airflow's own pool (128 slots unless a deployment changes it): where the model watchers run
WATCHER_POOL = "default_pool"


def _watchers_outside_writer_pool(tasks: dict) -> None:
    """Move the model watchers out of the one-slot pool ``upsell_duckdb`` into Airflow's
    default pool, so that they run side by side once the build has finished.

    A watcher's first try only reads the producer's statuses from XCom; in the one-slot
    pool a deployed night ran the 54 watchers one after another, ≈ 1 s each between
    scheduling and process start (docs/benchmarks.md, sixteenth round). The one way a
    watcher writes the warehouse is its fallback (building its model alone on a retry, or
    when the producer was skipped), and that runs dbt through ``upsell-dbt``, which holds
    an exclusive lock on the warehouse for as long as dbt runs (upsell.dbt_lock).
    """
    from cosmos.operators.watcher import DbtConsumerWatcherSensor

    for task in tasks.values():
        if isinstance(task, DbtConsumerWatcherSensor):
            task.pool = WATCHER_POOL


def _watchers_after_producer(group, tasks: dict) -> None:
    """Start the model watchers when the single ``dbt build`` has finished.

    Cosmos wires this only for a whole-DAG DbtDag; in a task group the root watchers would
    start beside the producer. With a serial runner (``airflow dags test``) or one free
    worker slot a watcher could then wait for a producer that cannot start. Running them
    after it costs only the live progress display; each model and test still ends as its
    own green or red task, reported by dbt.

    The watchers must run whatever the producer's outcome (success; failed: show which
    model; skipped: Cosmos skips a retried or cleared producer and the watchers then run
    their model alone), but not when the producer never ran because the raw gate upstream
    failed: a watcher of a producer in ``upstream_failed`` polls for statuses that never
    come, until its execution timeout. No trigger rule on the producer alone says that, so
    a setup/teardown pair of empty tasks does: ``dbt.start`` (setup, succeeds only when
    everything upstream of the group did) and ``dbt.built`` (its teardown, after the
    producer: all done and the setup succeeded, else ``upstream_failed``), and the root
    watchers follow ``dbt.built``.
    """
    from airflow.providers.standard.operators.empty import EmptyOperator

    producer = next((t for tid, t in tasks.items() if tid.endswith("dbt_producer_watcher")), None)
    if producer is None:
        return
    start = EmptyOperator(task_id="start", task_group=group).as_setup()
    built = EmptyOperator(task_id="built", task_group=group).as_teardown(setups=start)
    producer >> built
    for tid, task in tasks.items():
        if task is producer or tid.endswith("dbt_producer_watcher_done"):
            continue
        if not any(u in tasks for u in task.upstream_task_ids):  # a root watcher
            built >> task


def notify_failure(context) -> None:
    """on_failure_callback: name the failed step and why (incl. the validation result), in
    the log always, and through the Airflow connection ``upsell_alerts`` when it exists
    (``smtp``/``email``: mail to the connection's login; ``http``: a Slack-style webhook)."""
    ti = context.get("ti") or context.get("task_instance")
    exc = context.get("exception")
    dag_run = context.get("dag_run")
    text = (f"upsell_nightly FAILED at {getattr(ti, 'task_id', '?')} "
            f"(run {getattr(dag_run, 'run_id', '?')}): {exc}")
    log.error(text)
    try:
        from airflow.sdk import Connection

        conn = Connection.get("upsell_alerts")
    except Exception:  # no connection configured: the log is the alert
        return
    try:
        if conn.conn_type in ("smtp", "email"):
            import smtplib
            from email.message import EmailMessage

            msg = EmailMessage()
            msg["Subject"], msg["From"], msg["To"] = "upsell_nightly failed", conn.login, conn.login
            msg.set_content(text)
            with smtplib.SMTP(conn.host, conn.port or 25, timeout=10) as smtp:
                if conn.password:
                    smtp.starttls()
                    smtp.login(conn.login, conn.password)
                smtp.send_message(msg)
        else:
            import urllib.request

            url = conn.host if conn.host.startswith("http") else f"https://{conn.host}"
            req = urllib.request.Request(url, data=json.dumps({"text": text}).encode(),
                                         headers={"Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=10).read()  # noqa: S310 (the operator's own endpoint)
    except Exception:
        log.exception("could not send the failure alert through connection upsell_alerts")
