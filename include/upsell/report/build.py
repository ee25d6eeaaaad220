"""Build the nightly HTML report from the published serving file.

Output: ``<out>/<as_of>.html`` (one per as-of date, kept) and ``<out>/latest.html``, each
written to a temporary file and renamed into place, so a reader never sees half a page.
``<out>`` defaults to ``<serving>/report``.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from upsell.report.charts import all_charts
from upsell.report.data import DEFAULT_TOP_N, load
from upsell.report.page import render

log = logging.getLogger(__name__)

REPORT_DIR = "report"
LATEST = "latest.html"


@dataclass
class ReportResult:
    path: Path
    latest: Path
    as_of: date
    charts: int
    bytes: int


CACHE_ENV = "UPSELL_CACHE_DIR"


def cache_dir() -> Path:
    """Where derived files that depend only on installed packages are kept between runs:
    ``$UPSELL_CACHE_DIR``, else ``$XDG_CACHE_HOME/upsell``, else ``~/.cache/upsell``."""
    if configured := os.environ.get(CACHE_ENV):
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "upsell"


@functools.cache
def vega_javascript() -> str:
    """Vega, Vega-Lite and vega-embed as one script (from vl-convert, offline), at the
    Vega-Lite version altair writes its specs for.

    vl-convert bundles the script on every call (≈ 1.9 s of every night at any scale,
    docs/benchmarks.md), yet it depends only on the two installed packages' versions: it is
    kept in :func:`cache_dir` under a name made of both, and rebuilt when either changes.
    A cache that cannot be written (read-only home) costs only the rebuild."""
    import importlib.metadata

    import altair as alt

    key = f"vega-bundle-vlconvert{importlib.metadata.version('vl-convert-python')}-altair{alt.SCHEMA_VERSION}.js"
    cached = cache_dir() / key
    try:
        return cached.read_text(encoding="utf-8")
    except OSError:
        pass
    js = _bundle(alt.SCHEMA_VERSION)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(cached, js)
    except OSError as exc:
        log.info("could not cache the Vega bundle at %s (%s): it is rebuilt next run", cached, exc)
    return js


def _bundle(schema_version: str) -> str:
    import vl_convert as vlc

    major_minor = ".".join(schema_version.lstrip("v").split(".")[:2])
    version = major_minor if major_minor in vlc.get_vegalite_versions() else None
    js = vlc.javascript_bundle(vl_version=f"v{version}" if version else None)
    # the bundle goes inside a <script> element: nothing in it may close that element
    return js.replace("</script", "<\\/script")


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_report(serving_dir: Path, out_dir: Path | None = None, top_n: int | None = None) -> ReportResult:
    """Read the served marts (read-only), render the page, write the dated file and latest."""
    data = load(Path(serving_dir), top_n or DEFAULT_TOP_N)
    charts = all_charts(data)
    html = render(data, charts, vega_javascript())
    out = Path(out_dir) if out_dir else Path(serving_dir) / REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    dated = out / f"{data.as_of.isoformat()}.html"
    _atomic_write(dated, html)
    _atomic_write(out / LATEST, html)
    log.info("report as of %s: %s (%d charts, %.1f MB)", data.as_of, dated, len(charts), len(html) / 1e6)
    return ReportResult(dated, out / LATEST, data.as_of, len(charts), len(html.encode()))
