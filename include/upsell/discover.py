"""Find export files in a landing folder and tell which dataset each belongs to.

A file belongs to a dataset by name: ``<dataset>.<ext>`` or ``<dataset>_<anything>.<ext>``
inside its source system's folder. Anything else is reported, never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from upsell.contracts import SOURCES

FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
}


@dataclass(frozen=True)
class LandingFile:
    path: Path
    relpath: str  # relative to the landing folder, with "/"
    source: str
    dataset: str
    format: str
    compressed: bool


@dataclass(frozen=True)
class IgnoredFile:
    relpath: str
    reason: str


def _split_ext(name: str) -> tuple[str, str] | None:
    lower = name.lower()
    # longest extension first so ".csv.gz" wins over ".gz"
    for ext in sorted(FORMATS, key=len, reverse=True):
        if lower.endswith(ext):
            return name[: -len(ext)], ext
    return None


def match_dataset(source: str, filename: str) -> tuple[str, str] | None:
    """Return (dataset, extension) for an export file name, or None when it is not one."""
    split = _split_ext(filename)
    if split is None:
        return None
    stem, ext = split
    # Longest dataset name first: "email_events_part-1" must not match a shorter name.
    for dataset in sorted(SOURCES.get(source, []), key=len, reverse=True):
        if stem == dataset or stem.startswith(dataset + "_"):
            return dataset, ext
    return None


def discover(landing: Path) -> tuple[list[LandingFile], list[IgnoredFile]]:
    """List export files under ``landing/<source>/`` in a stable order (dataset, then name).

    Files are sorted by name within a dataset so that re-exports dated in their names
    (``accounts_20250401.csv`` < ``accounts_20250501.csv``) load oldest first.
    """
    files: list[LandingFile] = []
    ignored: list[IgnoredFile] = []
    landing = Path(landing)
    if not landing.is_dir():
        raise FileNotFoundError(f"landing folder not found: {landing}")
    for entry in sorted(landing.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and entry.name not in SOURCES:
            ignored.append(IgnoredFile(entry.name + "/", "not a source folder (crm, billing, email, plan)"))
    for source in sorted(SOURCES):
        folder = landing / source
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            rel = path.relative_to(landing).as_posix()
            if path.parent != folder:
                ignored.append(IgnoredFile(rel, "in a subfolder; exports must sit directly in the source folder"))
                continue
            hit = match_dataset(source, path.name)
            if hit is None:
                ignored.append(IgnoredFile(
                    rel, f"name matches no {source} dataset ({', '.join(SOURCES[source])}) "
                         f"with an accepted extension ({', '.join(FORMATS)})"))
                continue
            dataset, ext = hit
            files.append(LandingFile(path, rel, source, dataset, FORMATS[ext.lower()],
                                     ext.lower().endswith(".gz")))
    files.sort(key=lambda f: (f.source, f.dataset, f.relpath))
    return files, ignored
