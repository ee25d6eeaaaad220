"""docs/columns.md (the column dictionary) is generated from the dbt models' YAML: it must
be up to date with the models (a fresh `dbt parse`), and document every mart and column
that is actually served to BI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from upsell.coldict import render
from upsell.transform import AS_OF_ENV, dbt_args, dbt_env, dbt_work_dir

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "columns.md"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("dbt_parse")
    proc = subprocess.run([str(Path(sys.executable).with_name("dbt")), "parse", "--project-dir", str(REPO / "dbt_project"),
                           "--profiles-dir", str(REPO / "dbt_project"), "--target-path", str(target),
                           "--log-path", str(target / "logs"), "--quiet"],
                          capture_output=True, text=True, env={**os.environ, "UPSELL_EMAIL_SALT": "parse-only"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((target / "manifest.json").read_text(encoding="utf-8"))


def test_committed_dictionary_is_up_to_date_with_the_models(manifest):
    assert DOC.read_text(encoding="utf-8") == render(manifest), \
        "docs/columns.md is stale: run `make columns` and commit it"


def test_every_mart_has_an_enforced_contract_and_a_key_test(manifest):
    """BI reads the marts as typed tables with stable keys (dbt_project/CONTRIBUTING.md): each
    model under models/marts/ enforces its contract, types every column, and has a
    uniqueness test (``unique`` or ``unique_combination``) on its key."""
    marts = {uid: node for uid, node in manifest["nodes"].items()
             if node["resource_type"] == "model" and "/marts/" in node["original_file_path"]}
    assert len(marts) >= 20
    keyed = {dep for node in manifest["nodes"].values() if node["resource_type"] == "test"
             and node.get("test_metadata", {}).get("name") in ("unique", "unique_combination")
             for dep in node["depends_on"]["nodes"]}
    problems = []
    for uid, node in sorted(marts.items()):
        if not node["config"].get("contract", {}).get("enforced"):
            problems.append(f"{node['name']}: contract not enforced")
        untyped = [name for name, column in node["columns"].items() if not column.get("data_type")]
        if untyped:
            problems.append(f"{node['name']}: no data_type for {untyped}")
        if uid not in keyed:
            problems.append(f"{node['name']}: no unique / unique_combination test")
    assert not problems, problems


def test_spec_labels_are_in_the_dictionary():
    text = DOC.read_text(encoding="utf-8")
    for label in ("アップセル率", "既存顧客数", "提供リード数", "アップセル前LTV", "アップセル後LTV", "誰に", "いつ (開始)", "何を"):
        assert f"| {label} |" in text, label
    for code, ja in (("first_time", "初回客"), ("early_repeat", "よちよち客"), ("steady", "コツコツ客"),
                     ("trendy", "流行客"), ("loyal", "優良客"), ("loyal_lapsed", "優良離脱客")):
        assert f"| `{code}` | {ja} |" in text


def test_every_served_mart_and_column_is_documented(published_sample):
    text = DOC.read_text(encoding="utf-8")
    sections = {s.split("\n", 1)[0].strip(): s for s in text.split("\n## ")[1:]}
    con = duckdb.connect(str(published_sample / "upsell.duckdb"), read_only=True)
    try:
        columns = con.execute("""SELECT table_name, column_name FROM information_schema.columns
                                 WHERE table_schema = 'marts' AND table_name <> '_publish'""").fetchall()
    finally:
        con.close()
    assert columns
    missing = [f"{t}.{c}" for t, c in columns if t not in sections or f"| `{c}` |" not in sections[t]]
    assert not missing, f"served but not in docs/columns.md: {missing}"


def test_dbt_docs_generate_describes_every_mart_column(published_sample, tmp_path):
    """`dbt docs generate` (README, "Adding a model") on a copy of a built warehouse: it
    succeeds, its catalog has every table of schema marts with the warehouse's columns, and
    every one of those columns carries a description in the manifest it writes."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(published_sample.parent / "warehouse.duckdb", warehouse)
    proc = subprocess.run([str(Path(sys.executable).with_name("dbt")), "docs", *dbt_args("generate", warehouse)],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, **dbt_env(warehouse), AS_OF_ENV: "2026-10-31"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    target = dbt_work_dir(warehouse) / "target"
    assert (target / "index.html").exists()
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        built = {}
        for table, column in con.execute("""SELECT table_name, column_name FROM information_schema.columns
                                             WHERE table_schema = 'marts'""").fetchall():
            built.setdefault(table, set()).add(column)
    finally:
        con.close()
    cataloged = {node["metadata"]["name"]: set(node["columns"]) for node in catalog["nodes"].values()
                 if node["metadata"]["schema"] == "marts"}
    assert cataloged == built
    described = {node["name"]: {name for name, col in node["columns"].items() if col.get("description", "").strip()}
                 for node in manifest["nodes"].values()
                 if node["resource_type"] == "model" and node["name"] in built}
    undescribed = [f"{table}.{column}" for table, columns in built.items()
                   for column in sorted(columns - described.get(table, set()))]
    assert not undescribed, f"mart columns without a description: {undescribed}"
