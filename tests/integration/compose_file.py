"""Reading docker-compose.yml the way Compose does, without a container engine.

Shared by test_compose.py (static validation) and test_celery_topology.py (the same
topology as local processes), so both read one definition of the deployment: YAML with
merge keys (``<<: *airflow-common``), then variable interpolation by the Compose rules
(``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}``,
``${VAR:+alt}``, ``$VAR``, ``$$`` for a literal ``$``) from an ``.env``-style mapping.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"

_VAR = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
                  r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")


class InterpolationError(ValueError):
    """A required variable (``${VAR:?message}``) is unset or empty, as Compose would refuse."""


def load_raw(path: Path = COMPOSE) -> dict[str, Any]:
    """The compose file as YAML (merge keys resolved), before interpolation."""
    return yaml.safe_load(path.read_text())


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of an ``.env`` file (comments and blank lines skipped)."""
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path}: not KEY=VALUE: {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def variables(text: str) -> set[str]:
    """The names of the variables a string (or the whole file's text) interpolates."""
    return {m["braced"] or m["named"] for m in _VAR.finditer(text) if not m["escaped"]}


def interpolate_str(text: str, env: dict[str, str]) -> str:
    def substitute(m: re.Match) -> str:
        if m["escaped"]:
            return "$"
        name = m["braced"] or m["named"]
        op, arg = m["op"], m["arg"] or ""
        value = env.get(name)
        set_and_non_empty = bool(value)
        if op == ":-":
            return value if set_and_non_empty else arg
        if op == "-":
            return value if value is not None else arg
        if op in (":?", "?"):
            if (op == ":?" and not set_and_non_empty) or value is None:
                raise InterpolationError(f"required variable {name} is missing a value: {arg}")
            return value
        if op == ":+":
            return arg if set_and_non_empty else ""
        if op == "+":
            return arg if value is not None else ""
        return value or ""

    return _VAR.sub(substitute, text)


def interpolate(node: Any, env: dict[str, str]) -> Any:
    """Interpolate every string value (not the keys) of a loaded compose file."""
    if isinstance(node, dict):
        return {k: interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env) for v in node]
    if isinstance(node, str):
        return interpolate_str(node, env)
    return node


def load(env: dict[str, str], path: Path = COMPOSE) -> dict[str, Any]:
    """The compose file as Compose sees it with ``env`` as its .env file."""
    return interpolate(load_raw(path), env)


def filled_example_env() -> dict[str, str]:
    """.env.example with every empty (required) value filled in, as a user's .env would be."""
    return {k: v or f"example-{k.lower()}" for k, v in read_env_file(ENV_EXAMPLE).items()}


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping (Compose accepts a list of KEY=VALUE too)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def mounts(service: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(source, container path, read_only) of each short-syntax volume of a service."""
    out = []
    for spec in service.get("volumes", []):
        source, target, *mode = spec.split(":")
        out.append((source, target, bool(mode) and "ro" in mode[0].split(",")))
    return out


def is_bind(source: str) -> bool:
    """A host path (bind mount), not a named volume."""
    return source.startswith((".", "/", "~"))
