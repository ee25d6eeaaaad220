"""Match the header of an export to the canonical columns of its dataset.

Accepted names, per column: the canonical English name, the Japanese labels a
Japanese-locale CRM writes, and a user's own names from mapping YAML files (one per
source system: ``crm.yml``, ``billing.yml``, ``email.yml``, ``plan.yml``). Matching ignores
case, surrounding spaces and full-width/half-width differences (Unicode NFKC).
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from upsell.contracts import DATASETS, SOURCES

MAPPINGS_ENV = "UPSELL_HEADER_MAPPINGS"


class HeaderError(ValueError):
    """The header cannot be matched to the dataset's contract."""


def normalize(name: str) -> str:
    """NFKC, trimmed (ASCII and ideographic spaces), lower-case, inner whitespace collapsed."""
    text = unicodedata.normalize("NFKC", name or "").strip().lower()
    return " ".join(text.split())


def load_mappings(dirs: list[Path] | None = None) -> dict[str, dict[str, str]]:
    """Read ``<dir>/<source>.yml`` files into {dataset: {normalized header: canonical}}.

    ``dirs`` defaults to the paths in ``$UPSELL_HEADER_MAPPINGS`` (``os.pathsep``-separated).
    The YAML shape is ``{dataset: {"Their Header": canonical_column}}``.
    """
    if dirs is None:
        env = os.environ.get(MAPPINGS_ENV, "")
        dirs = [Path(p) for p in env.split(os.pathsep) if p]
    result: dict[str, dict[str, str]] = {}
    for folder in dirs:
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"header mapping folder not found: {folder}")
        for source, datasets in SOURCES.items():
            for suffix in (".yml", ".yaml"):
                path = Path(folder) / f"{source}{suffix}"
                if path.exists():
                    _merge_mapping_file(path, datasets, result)
    return result


def _merge_mapping_file(path: Path, datasets: list[str], into: dict[str, dict[str, str]]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of dataset -> {{header: column}}")
    for dataset, mapping in data.items():
        if dataset not in datasets:
            raise ValueError(f"{path}: unknown dataset {dataset!r} (expected one of {datasets})")
        columns = {c.name for c in DATASETS[dataset].columns}
        for header, column in (mapping or {}).items():
            if column not in columns:
                raise ValueError(f"{path}: {dataset}.{header!r} maps to unknown column {column!r}")
            into.setdefault(dataset, {})[normalize(str(header))] = column


@dataclass(frozen=True)
class HeaderMatch:
    positions: dict[str, int]  # canonical column -> position in the file's header
    ignored: list[str]  # non-empty headers that matched nothing


def match_header(dataset: str, header: list[str],
                 mappings: dict[str, dict[str, str]] | None = None) -> HeaderMatch:
    """Map each header cell to a canonical column; raise HeaderError when the file is unusable."""
    spec = DATASETS[dataset]
    lookup: dict[str, str] = {}
    for col in spec.columns:
        lookup[normalize(col.name)] = col.name
        for alias in col.alias_ja:
            lookup.setdefault(normalize(alias), col.name)
    lookup.update((mappings or {}).get(dataset, {}))

    positions: dict[str, int] = {}
    ignored: list[str] = []
    for i, cell in enumerate(header):
        key = normalize(cell)
        if not key:
            continue  # trailing empty columns of spreadsheet exports
        column = lookup.get(key)
        if column is None:
            ignored.append(cell)
            continue
        if column in positions:
            raise HeaderError(
                f"ambiguous header: {header[positions[column]]!r} and {cell!r} both map to {column}")
        positions[column] = i
    missing = [c for c in spec.required if c not in positions]
    if missing:
        raise HeaderError(
            f"missing required column(s) {', '.join(missing)} for dataset {dataset}; "
            f"header was {', '.join(repr(h) for h in header)}")
    return HeaderMatch(positions, ignored)
