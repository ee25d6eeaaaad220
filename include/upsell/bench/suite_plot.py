"""The scaling plot of ``docs/bench-scaling.png`` (altair; PNG through vl-convert, offline).

Three panels side by side: run time and peak RSS of every contender against input size
(log–log: S → M → L grows by ×40 and ×10, so a straight line with slope 1 is linear
scaling), and the full night's stage mix per scale (what dominates where).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from upsell.bench.suite_report import STAGE_ROWS, contender_points, expanded_stages, input_mb, ordered_scales

# short legend names, in pipeline order (the stack's order, bottom up)
SHORT = {"startup": "start-up", "ingest": "ingest", "validate_raw": "raw gate", "dbt_models": "dbt models",
         "dbt_tests": "dbt tests", "dbt_overhead": "dbt overhead", "validate_marts": "marts gate",
         "publish": "publish", "report": "report"}
ORDER = [key for key, _label in STAGE_ROWS]


def contender_frame(results: dict) -> pd.DataFrame:
    """One row per scale and contender: input MB, seconds, peak RSS."""
    rows = [{"scale": scale, "input_mb": input_mb(entry), **p}
            for scale in ordered_scales(results)
            for entry in [results["scales"][scale]]
            for p in contender_points(entry)]
    return pd.DataFrame(rows, columns=["scale", "input_mb", "key", "contender", "seconds", "peak_rss_gib"])


def stage_frame(results: dict) -> pd.DataFrame:
    """One row per scale and stage of the full night: seconds and share of the night."""
    rows = []
    for scale in ordered_scales(results):
        full = results["scales"][scale]["full"]
        for key, seconds in expanded_stages(full).items():
            rows.append({"scale": scale, "stage": SHORT.get(key, key), "seconds": seconds,
                         "share": seconds / full["stages"]["total"],
                         "order": ORDER.index(key) if key in ORDER else len(ORDER)})
    return pd.DataFrame(rows, columns=["scale", "stage", "seconds", "share", "order"])


def _lines(df: pd.DataFrame, field: str, title: str) -> alt.Chart:
    return alt.Chart(df, title=title).mark_line(point=True).encode(
        x=alt.X("input_mb:Q", scale=alt.Scale(type="log"), title="input size (MB, log)"),
        y=alt.Y(f"{field}:Q", scale=alt.Scale(type="log"), title=title),
        color=alt.Color("contender:N", legend=alt.Legend(title="contender", orient="bottom", columns=2)),
        tooltip=["scale", "contender", field],
    ).properties(width=300, height=260)


def scaling_chart(results: dict) -> alt.HConcatChart:
    """Run time vs input, peak RSS vs input, and the full night's stage shares per scale."""
    contenders = contender_frame(results)
    stages = stage_frame(results)
    mix = alt.Chart(stages, title="full night: share of each stage").mark_bar().encode(
        x=alt.X("scale:N", sort=list(ordered_scales(results)), title="scale"),
        y=alt.Y("share:Q", stack="normalize", axis=alt.Axis(format="%"), title="share of the full run"),
        color=alt.Color("stage:N", sort=list(SHORT.values()),
                        legend=alt.Legend(title="stage", orient="bottom", columns=2)),
        order=alt.Order("order:Q"),
        tooltip=["scale", "stage", "seconds"],
    ).properties(width=160, height=260)
    return alt.hconcat(_lines(contenders, "seconds", "run time (s, log)"),
                       _lines(contenders, "peak_rss_gib", "peak RSS (GiB, log)"), mix
                       ).resolve_scale(color="independent").properties(
        title="upsell nightly benchmark suite: scaling S → M → L")
