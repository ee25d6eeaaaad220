"""The Great Expectations file-mode context used at run time.

The template config is kept in the repository (``include/gx/great_expectations.yml``);
at run time it is copied to ``<warehouse dir>/gx`` (or ``$UPSELL_GX_DIR``), and the suites
from ``suites.py`` are written into it, so results and Data Docs stay out of the repo.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[2] / "gx" / "great_expectations.yml"


def gx_root(warehouse: Path) -> Path:
    """The folder that holds ``gx/`` for this warehouse."""
    if env := os.environ.get("UPSELL_GX_DIR"):
        return Path(env)
    return Path(warehouse).resolve().parent


def quiet_gx_logging() -> None:
    """GX logs hundreds of INFO lines at import; keep warnings only."""
    for name in ("great_expectations", "great_expectations._docs_decorators"):
        logging.getLogger(name).setLevel(logging.WARNING)


def skip_dataframe_fingerprint() -> None:
    """Stop GX hashing every DataFrame it is given (``pandas_data_fingerprint``).

    GX's pandas engine hashes each batch under 1 GB (``HASH_THRESHOLD``) only to record
    the hash among the result's batch markers; nothing reads it back. For the raw gate that
    is every value of the night's rows once more: 0.8 s of its ≈ 3.8 s at M scale
    (docs/benchmarks.md, tenth round). What a result validated is identified by the gate's
    own label instead: the source file, whose SHA-256 is in ``audit.file_loads``.
    """
    from great_expectations.execution_engine import pandas_execution_engine

    if hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        pandas_execution_engine.HASH_THRESHOLD = 0  # hash only frames smaller than 0 bytes
    else:  # a GX release without it: validation still works, only slower
        logging.getLogger(__name__).warning("great_expectations has no HASH_THRESHOLD; frames are fingerprinted")


def get_context(warehouse: Path):
    quiet_gx_logging()
    import great_expectations as gx

    skip_dataframe_fingerprint()

    root = gx_root(warehouse)
    config = root / "gx" / "great_expectations.yml"
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(TEMPLATE, config)
    return gx.get_context(mode="file", project_root_dir=str(root))


def data_docs_index(warehouse: Path) -> Path:
    return gx_root(warehouse) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
