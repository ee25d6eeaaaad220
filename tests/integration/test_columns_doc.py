"""docs/columns.md (the column dictionary) is generated from the dbt models' YAML: it must
be up to date with the models (a fresh `dbt parse`), and document every mart and column
that is actually served to BI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from upsell.coldict import render

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
