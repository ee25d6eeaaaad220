"""What people read after a night: ``upsell summary`` (the run, for operators) and the
nightly HTML report (campaign PDCA, KPI trends, CPM/RFM, the sales list, for managers).

The HTML report's modules import altair and vl-convert; they are loaded only when a report
is built, so ``upsell summary`` and the DAG's parse stay light.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from upsell.report.summary import print_summary

if TYPE_CHECKING:
    from upsell.report.build import ReportResult

__all__ = ["build_report", "print_summary"]


def build_report(serving_dir: Path, out_dir: Path | None = None, top_n: int | None = None) -> ReportResult:
    """Build ``<out>/<as_of>.html`` and ``<out>/latest.html`` from the published serving file."""
    from upsell.report.build import build_report as build

    return build(serving_dir, out_dir, top_n=top_n)
