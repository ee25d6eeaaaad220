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


def get_context(warehouse: Path):
    quiet_gx_logging()
    import great_expectations as gx

    root = gx_root(warehouse)
    config = root / "gx" / "great_expectations.yml"
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(TEMPLATE, config)
    return gx.get_context(mode="file", project_root_dir=str(root))


def data_docs_index(warehouse: Path) -> Path:
    return gx_root(warehouse) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
