"""Column dictionary of every mart, generated from the dbt manifest (``dbt parse``).

The model YAML is the single source: column descriptions, contract data types, and the
bilingual labels in ``config.meta`` (``label_ja`` / ``label_en``, and ``values_ja`` for coded
columns such as the CPM segment) where the spec gives them. ``make columns`` writes
``docs/columns.md``; a test fails when the committed file is behind the models.

    python -m upsell.coldict --manifest dbt_project/target/manifest.json --out docs/columns.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HEADER = """# Column dictionary (marts)

Generated from the dbt models' YAML by `make columns` (`python -m upsell.coldict`): do not
edit by hand; change the model's YAML and regenerate. Every mart is served read-only in
`<serving>/upsell.duckdb` (schema `marts`) and as `<serving>/parquet/current/<mart>.parquet`
(a history mart, `<name>_history`, as a folder of one file per snapshot:
`<serving>/parquet/current/<mart>/<as_of_date>.parquet`; see [bi.md](bi.md)). 日本語 / English
labels are given where the spec defines them.
"""


def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _first_paragraph(text: str) -> str:
    return " ".join(text.strip().split("\n\n")[0].split())


def mart_models(manifest: dict) -> list[dict]:
    """The models of the marts folder, by name."""
    models = [n for n in manifest["nodes"].values()
              if n["resource_type"] == "model" and len(n["fqn"]) > 1 and n["fqn"][1] == "marts"]
    return sorted(models, key=lambda n: n["name"])


def column_meta(column: dict) -> dict:
    return {**(column.get("meta") or {}), **((column.get("config") or {}).get("meta") or {})}


def render(manifest: dict) -> str:
    models = mart_models(manifest)
    out = [HEADER, "## Marts\n"]
    out += [f"- [{m['name']}](#{m['name']}) — {_cell(_first_paragraph(m.get('description') or ''))[:140]}"
            for m in models]
    for m in models:
        out.append(f"\n## {m['name']}\n")
        out.append(_cell(_first_paragraph(m.get("description") or "")) + "\n")
        out.append("| column | type | 日本語 | English | description |")
        out.append("|---|---|---|---|---|")
        values_notes = []
        for col in m["columns"].values():
            meta = column_meta(col)
            out.append(f"| `{col['name']}` | {_cell(col.get('data_type'))} | {_cell(meta.get('label_ja'))} "
                       f"| {_cell(meta.get('label_en'))} | {_cell(col.get('description'))} |")
            if meta.get("values_ja"):
                values_notes.append((col["name"], meta["values_ja"]))
        for name, values in values_notes:
            out.append(f"\nValues of `{name}` (コード → 日本語):\n")
            out.append("| code | 日本語 |")
            out.append("|---|---|")
            out += [f"| `{code}` | {_cell(label)} |" for code, label in values.items()]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m upsell.coldict", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, required=True, help="dbt target/manifest.json (dbt parse)")
    parser.add_argument("--out", type=Path, required=True, help="markdown file to write")
    args = parser.parse_args(argv)
    if not args.manifest.exists():
        print(f"no dbt manifest at {args.manifest}: run `make manifest` (dbt parse) first", file=sys.stderr)
        return 1
    text = render(json.loads(args.manifest.read_text(encoding="utf-8")))
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: {text.count(chr(10) + '## ') - 1} marts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
