"""docker-compose.yml, validated without a container engine.

No Docker here, so the file is checked statically: against the Compose Specification JSON
schema (the copy vendored in tests/integration/data/, from docker-compose 1.29.2, the
version Debian packages) after interpolation with a filled-in .env.example; and for what a
schema cannot see: every variable it reads is documented in .env.example, no secret has a
committed value, every host path it mounts exists, each container path the configuration
names lies on a mount, the topology is the issue's (Celery on Redis, Postgres metadata),
each service's command is a command of the locked Airflow, and the image installs from
uv.lock. Runs in ~10 s (one Airflow CLI parser in a subprocess).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.integration.compose_file import (
    ENV_EXAMPLE,
    REPO,
    InterpolationError,
    environment,
    filled_example_env,
    is_bind,
    load,
    load_raw,
    mounts,
    read_env_file,
    variables,
)

SCHEMA = Path(__file__).parent / "data" / "compose_spec.json"
AIRFLOW_SERVICES = {
    "airflow-init": None,  # a bash script (checked below)
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
SECRET = re.compile(r"PASSWORD|SECRET|FERNET|SALT|TOKEN", re.I)
# host folders the deployment creates on first start (gitignored, under var/)
RUNTIME_DIRS = {"./var/compose"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return load(filled_example_env())


def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text())
    # the vendored file's "$schema" (http://…/draft/2019-09/schema#) is not the exact
    # meta-schema URI jsonschema knows: name the draft
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema)


def test_the_file_validates_against_the_compose_schema(compose):
    errors = sorted(validator().iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_the_schema_check_catches_a_broken_file(compose):
    """The validator is not vacuous: a misspelt key and a wrong type are both rejected."""
    broken = json.loads(json.dumps(compose))
    broken["services"]["redis"]["imagee"] = "redis:7.2-bookworm"
    broken["services"]["airflow-worker"]["depends_on"]["redis"]["condition"] = "service_ready"
    messages = [e.message for e in validator().iter_errors(broken)]
    assert any("imagee" in m for m in messages), messages
    assert any("service_ready" in m for m in messages), messages


def test_every_variable_is_documented_in_env_example():
    used = variables(json.dumps(load_raw()))  # the YAML's values, not its comments
    documented = set(read_env_file(ENV_EXAMPLE))
    assert used - documented == set(), f"used by docker-compose.yml, missing from .env.example: {used - documented}"
    assert documented - used == set(), f"in .env.example, unused by docker-compose.yml: {documented - used}"


def test_no_secret_is_committed():
    example = read_env_file(ENV_EXAMPLE)
    secrets = {k for k in example if SECRET.search(k)}
    assert {"POSTGRES_PASSWORD", "AIRFLOW_ADMIN_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET",
            "AIRFLOW_API_SECRET_KEY", "UPSELL_EMAIL_SALT"} <= secrets
    assert {k: v for k, v in example.items() if k in secrets and v} == {}, ".env.example commits a secret value"
    text = json.dumps(load_raw())
    for name in secrets:
        for m in re.finditer(r"\$\{" + name + r"(?P<op>:?[-+?])?(?P<arg>[^}]*)\}", text):
            assert m["op"] in (None, ":?"), f"${{{name}}} has a default in docker-compose.yml: {m[0]}"
    # and every secret is required somewhere: without .env, compose refuses to start
    for name in secrets:
        env = {k: v for k, v in filled_example_env().items() if k != name}
        with pytest.raises(InterpolationError, match=name):
            load(env)
    # no secret-looking setting carries a literal value either
    raw = load_raw()
    for service_name, service in raw["services"].items():
        for key, value in environment(service).items():
            if SECRET.search(key) and "PASSWORDS_FILE" not in key:
                assert value.startswith("${"), f"{service_name}: {key} has a literal value"
    assert ".env" in (REPO / ".gitignore").read_text().split(), ".env must be gitignored"


def test_the_services_of_the_topology(compose):
    services = compose["services"]
    assert set(services) >= {"postgres", "redis", *AIRFLOW_SERVICES}
    for name, command in AIRFLOW_SERVICES.items():
        service = services[name]
        assert service["build"] == "." and service["image"] == compose["services"]["airflow-scheduler"]["image"]
        if command:
            assert service["command"] == command, name
            assert "healthcheck" in service, f"{name} has no health check"
            assert service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        for dep in ("postgres", "redis"):
            assert service["depends_on"][dep]["condition"] == "service_healthy", (name, dep)
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    init = " ".join(services["airflow-init"]["command"])
    for step in ("airflow db migrate", "airflow pools set upsell_duckdb 1", "AIRFLOW_ADMIN_PASSWORD",
                 "python -m upsell.cosmos_parse", "--cosmos-cache"):
        assert step in init, f"airflow-init does not run {step!r}"


def test_celery_on_redis_with_postgres_metadata(compose):
    env = environment(compose["services"]["airflow-worker"])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert re.fullmatch(r"redis://redis:6379/\d+", env["AIRFLOW__CELERY__BROKER_URL"])
    assert re.fullmatch(r"redis://redis:6379/\d+", env["AIRFLOW__CELERY__RESULT_BACKEND"])
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] != env["AIRFLOW__CELERY__BROKER_URL"]
    assert re.fullmatch(r"postgresql\+psycopg2://[^:]+:[^@]+@postgres:5432/\w+", env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    # the drivers those URLs need are in the lock (the image installs exactly the lock):
    # Airflow 3 opens the metadata DB through an async engine too (asyncpg on PostgreSQL)
    for module in ("psycopg2", "asyncpg", "redis", "airflow.providers.celery"):
        assert importlib.util.find_spec(module) is not None, f"{module} is not installed from uv.lock"
    # every Airflow service runs with the same configuration
    for name in AIRFLOW_SERVICES:
        other = environment(compose["services"][name])
        assert {k: other.get(k) for k in env if k.startswith(("AIRFLOW__", "UPSELL_"))} == \
            {k: v for k, v in env.items() if k.startswith(("AIRFLOW__", "UPSELL_"))}, name


def test_every_mounted_host_path_exists(compose):
    named = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for source, target, _ in mounts(service):
            if not is_bind(source):
                assert source in named, f"{name}: volume {source} is not declared"
                continue
            if source in RUNTIME_DIRS:
                assert source.startswith("./var/"), "runtime folders live under the gitignored var/"
                continue
            assert (REPO / source).resolve().exists(), f"{name}: {source} (mounted at {target}) does not exist"
    sources = {s for s, _, _ in mounts(compose["services"]["airflow-worker"])}
    assert {"./dags", "./plugins", "./include", "./dbt_project"} <= sources


def test_every_container_path_lies_on_a_mount(compose):
    """Each path the configuration names inside the containers is on a mount, and a mount
    of a repository folder resolves it to something that exists (e.g. the header mappings)."""
    for name in AIRFLOW_SERVICES:
        service = compose["services"][name]
        table = mounts(service)
        for key, value in environment(service).items():
            for path in filter(None, value.split(":") if key == "UPSELL_HEADER_MAPPINGS" else [value]):
                if not path.startswith(("/opt/", "/data/")):
                    continue
                on = [(s, t) for s, t, _ in table if path == t or path.startswith(t + "/")]
                assert on, f"{name}: {key}={path} is on no mount"
                source, target = max(on, key=lambda st: len(st[1]))
                if is_bind(source) and source not in RUNTIME_DIRS and key != "UPSELL_WAREHOUSE":
                    host = (REPO / source / os.path.relpath(path, target)).resolve()
                    assert host.exists(), f"{name}: {key}={path} is {host}, which does not exist"
        landing = [ro for s, t, ro in table if t == environment(service)["UPSELL_LANDING"]]
        assert landing == [True], f"{name}: the landing folder is mounted read-only"


def test_service_commands_are_commands_of_the_locked_airflow(compose):
    """`command: X` runs `airflow X` (the image's entrypoint): parse each with the CLI of
    the Airflow in .venv, Celery commands included (they come with the executor)."""
    commands = [compose["services"][n]["command"].split() for n, c in AIRFLOW_SERVICES.items() if c]
    # and the Celery app the worker loads imports (celery 5.7 broke the provider's import)
    probe = ("import json, sys\nfrom airflow.cli import cli_parser\nparser = cli_parser.get_parser()\n"
             "for argv in json.loads(sys.argv[1]):\n    parser.parse_args(argv)\n"
             "import airflow.providers.celery.executors.celery_executor\nprint('ok')\n")
    proc = subprocess.run([sys.executable, "-c", probe, json.dumps(commands)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                                            "AIRFLOW_HOME": str(REPO / "var" / "airflow-cli-probe")})
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-3000:]


def test_the_image_installs_from_the_lock():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"COPY [^\n]*uv\.lock", dockerfile)
    syncs = re.findall(r"uv sync[^\n]*", dockerfile)
    assert syncs and all("--frozen" in s for s in syncs), syncs
    code = "\n".join(line for line in dockerfile.splitlines() if not line.lstrip().startswith("#"))
    assert "constraint" not in code.lower() and "pip install apache-airflow" not in code
    assert 'ENTRYPOINT ["airflow"]' in dockerfile
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", ".env", "var"} <= set(ignored)
