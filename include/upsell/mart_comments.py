"""The marts' descriptions as comments in the serving file BI reads (``COMMENT ON``).

Why here and not dbt's ``persist_docs``: on DuckDB, persist_docs comments the tables of the
warehouse file, which BI never opens; publish copies the marts into the serving file with
``CREATE TABLE AS``, which keeps no comments, so the served tables had none. And it cost
≈ 1 s of every nightly build at M, more at S (dbt renders the comment macros and reads each
model's columns again in Python; docs/benchmarks.md, fifteenth round). The
model YAML stays the single source: the comments are taken from the dbt manifest, like
``docs/columns.md`` (:mod:`upsell.coldict`), with the Japanese label first where the spec
gives one. A DBeaver, DataGrip or DuckDB ``duckdb_columns()`` user then sees them on the
served tables themselves.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from upsell.coldict import column_meta, mart_models

log = logging.getLogger(__name__)


def manifest_for(warehouse: Path) -> Path | None:
    """The newer of the manifest ``upsell run`` writes beside ``warehouse`` and the pre-built
    one the DAG's dbt tasks run from (``make manifest``): a warehouse built by both keeps an
    old run's manifest beside it. None when neither exists."""
    from upsell.dag_support import MANIFEST
    from upsell.transform import dbt_work_dir

    found = [p for p in (dbt_work_dir(warehouse) / "target" / "manifest.json", MANIFEST) if p.exists()]
    return max(found, key=lambda p: p.stat().st_mtime, default=None)


def mart_comments(manifest: dict) -> dict[str, tuple[str, dict[str, str]]]:
    """mart -> (table comment, {column: comment}), empty descriptions left out."""
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for model in mart_models(manifest):
        columns = {}
        for column in model["columns"].values():
            meta = column_meta(column)
            text = " ".join((column.get("description") or "").split())
            label = meta.get("label_ja")
            if label and text:
                text = f"{label}: {text}"
            if text or label:
                columns[column["name"]] = text or label
        out[model["name"]] = (" ".join((model.get("description") or "").split()), columns)
    return out


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_sql(catalog: str, mart: str, table: str, columns: dict[str, str], present: list[str]) -> list[str]:
    """``COMMENT ON`` statements for one mart, for the columns it has (a manifest older than
    the build may name a column that is gone)."""
    target = f'"{catalog}".marts."{mart}"'
    sql = [f"COMMENT ON TABLE {target} IS {_literal(table)};"] if table else []
    sql += [f'COMMENT ON COLUMN {target}."{name}" IS {_literal(columns[name])};'
            for name in present if name in columns]
    return sql


def apply(con, catalog: str, marts: dict[str, list[tuple]], manifest_path: Path | None) -> int:
    """Comment every mart of ``marts`` (name -> [(column, type), ...]) in ``catalog``; the
    number of comments written. No manifest: a warning, and the marts are served without."""
    if manifest_path is None:
        log.warning("no dbt manifest found: the served marts carry no descriptions (run `make manifest`)")
        return 0
    comments = mart_comments(json.loads(Path(manifest_path).read_text(encoding="utf-8")))
    written = 0
    for mart, columns in marts.items():
        if mart not in comments:
            continue
        table, described = comments[mart]
        sql = comment_sql(catalog, mart, table, described, [name for name, _type in columns])
        if sql:
            con.execute("\n".join(sql))
            written += len(sql)
    return written
