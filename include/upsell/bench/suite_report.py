"""Turn ``suite-results.json`` into the Markdown report and the scaling plot.

Everything here is a pure function of the results dict (no measuring), so a report can be
re-rendered at any time (``python -m upsell.bench.suite --render-only``) and tested with a
hand-made dict. Ratios are computed only from numbers of one scale entry, which one
invocation measured together (``upsell.bench.suite.merge_results`` replaces scale entries
whole), so every target compares contenders measured in the same run on the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SCALE_ORDER = ("S", "M", "L")
# the stages of a night as reported: dbt_build is split into its three parts
STAGE_ROWS = (("startup", "start-up (imports)"), ("ingest", "ingest"),
              ("validate_raw", "validation: raw gate (GX)"),
              ("dbt_models", "dbt build: models"), ("dbt_tests", "dbt build: tests"),
              ("dbt_overhead", "dbt build: dbt itself (start-up, parse, compile, gaps)"),
              ("validate_marts", "validation: marts gate (GX)"), ("publish", "publish"),
              ("report", "report (HTML)"))
DBT_PARTS = ("dbt_models", "dbt_tests", "dbt_overhead")


def ordered_scales(results: dict) -> list[str]:
    """The measured scales, S → M → L (unknown names last, alphabetically)."""
    names = list(results.get("scales", {}))
    return sorted(names, key=lambda s: (SCALE_ORDER.index(s) if s in SCALE_ORDER else len(SCALE_ORDER), s))


def expanded_stages(run: dict) -> dict[str, float]:
    """A night's stage seconds with ``dbt_build`` replaced by models / tests / dbt overhead."""
    stages = {k: v for k, v in run["stages"].items() if k != "total"}
    split = run.get("dbt_profile", {}).get("split")
    if split and "dbt_build" in stages:
        del stages["dbt_build"]
        stages.update({k: split.get(k, 0.0) for k in DBT_PARTS})
    return stages


def stage_shares(stages: dict[str, float], total: float | None = None) -> dict[str, float]:
    """Each stage's share of ``total`` (default: their sum), 0..1."""
    total = sum(stages.values()) if total is None else total
    return {k: (v / total if total else 0.0) for k, v in stages.items()}


def stage_rss(run: dict, stage: str) -> float | None:
    """The peak tree RSS of a stage; the dbt parts share the dbt build's."""
    peaks = run.get("stage_rss_gib", {})
    return peaks.get("dbt_build") if stage in DBT_PARTS else peaks.get(stage)


def dominant(run: dict, n: int = 2) -> list[tuple[str, float]]:
    """The ``n`` largest stages of a night with their shares."""
    shares = stage_shares(expanded_stages(run), run["stages"]["total"])
    return sorted(shares.items(), key=lambda kv: -kv[1])[:n]


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def ratios(entry: dict) -> dict[str, float | None]:
    """Every ratio a target is judged on, from one scale entry (None when not measured)."""
    full, inc, bare = entry.get("full"), entry.get("incremental"), entry.get("bare")
    air, b2, deployed = entry.get("airflow"), entry.get("baseline2"), ok(entry.get("airflow_deployed"))
    full_total = full["stages"]["total"] if full else None
    out: dict[str, float | None] = {
        "full_over_bare": _div(full_total, bare and bare["median_s"]),
        "incremental_over_full": _div(inc and inc["stages"]["total"], full_total),
        "ingest_throughput_ratio": None, "baseline2_over_full": None, "airflow_overhead": None,
        "airflow_overhead_deployed": None,
        "peak_rss_gib": max((r["peak_rss_gib"] for r in (full, inc, ok(air)) if r), default=None),
    }
    if full and bare:
        ours = _div(full["rows_read"], full["stages"]["ingest"])
        out["ingest_throughput_ratio"] = _div(ours, _div(bare["rows"], bare["median_s"]))
    if full and ok(b2):
        out["baseline2_over_full"] = _div(b2["wall_s"], full["wall_s"])
    if full and ok(air):
        out["airflow_overhead"] = _div(air["wall_s"] - full["wall_s"], air["wall_s"])
    if full and deployed:
        # the deployed night excludes the components' start-up: set against the CLI's night
        # itself (its in-process total), not its process
        out["airflow_overhead_deployed"] = _div(deployed["night_s"] - full_total, deployed["night_s"])
    return out


def ok(contender: dict | None) -> dict | None:
    """The contender's result, or None when it was not run or failed."""
    return contender if contender and "error" not in contender else None


@dataclass(frozen=True)
class Target:
    """One target of the issue: a ratio at a scale against a threshold."""

    name: str
    key: str  # the ratio in ratios() / "dag_parse"
    scale: str | None  # None: not per scale
    threshold: float
    at_most: bool  # True: value <= threshold; False: value >= threshold
    fmt: str  # a str.format pattern for the value and the threshold

    def show(self, value: float) -> str:
        return self.fmt.format(value)


X, PCT, GIB, SEC = "{:.2f}×", "{:.0%}", "{:.2f} GiB", "{:.2f} s"  # how each kind of value prints


TARGETS = (
    Target("ingestion ≥ 0.7× bare reader throughput", "ingest_throughput_ratio", "L", 0.7, False, X),
    Target("full nightly run ≤ 5× bare read time", "full_over_bare", "M", 5.0, True, X),
    Target("full nightly run ≤ 5× bare read time, no worse than at M", "full_over_bare", "L", 5.0, True, X),
    Target("incremental ≤ 0.25× full run", "incremental_over_full", "M", 0.25, True, X),
    Target("incremental ≤ 0.25× full run", "incremental_over_full", "L", 0.25, True, X),
    Target("≥ 10× faster end to end than pandas + to_sql → Postgres", "baseline2_over_full", "M", 10.0, False, X),
    Target("peak RSS < 12 GiB", "peak_rss_gib", "L", 12.0, True, GIB),
    Target("DAG parse < 2 s", "dag_parse", None, 2.0, True, SEC),
    Target("Airflow's own overhead < 20 % of the nightly run", "airflow_overhead", "M", 0.20, True, PCT),
    Target("Airflow's own overhead < 20 % of the nightly run, deployed (scheduler)", "airflow_overhead_deployed",
           "M", 0.20, True, PCT),
)


def target_value(results: dict, target: Target, scale: str | None) -> float | None:
    """The measured value of a target's ratio at ``scale`` (None when not measured)."""
    if target.key == "dag_parse":
        return (results.get("dag_parse") or {}).get("median_seconds")
    entry = results.get("scales", {}).get(scale)
    return ratios(entry)[target.key] if entry else None


def judge(results: dict, target: Target) -> tuple[float | None, str]:
    """(value at the target's scale, "met" / "missed" / "not measured")."""
    value = target_value(results, target, target.scale)
    if value is None:
        return None, "not measured"
    met = value <= target.threshold if target.at_most else value >= target.threshold
    if met and target.key == "full_over_bare" and target.scale == "L":
        at_m = target_value(results, target, "M")
        met = at_m is None or value <= at_m  # "same or better at L" (judged on L alone without M)
    return value, "met" if met else "missed"


def evaluate_targets(results: dict) -> list[dict]:
    """Every target: value, status, and the same ratio at the other measured scales."""
    rows = []
    for t in TARGETS:
        value, status = judge(results, t)
        others = [] if t.scale is None else [
            f"{s}: {t.show(v)}" for s in ordered_scales(results)
            if s != t.scale and (v := target_value(results, t, s)) is not None]
        rows.append({"target": t.name, "scale": t.scale or "-", "threshold": t.show(t.threshold),
                     "value": t.show(value) if value is not None else "-", "status": status,
                     "elsewhere": ", ".join(others)})
    return rows


def render_markdown(results: dict) -> str:
    """The whole report: per-scale tables, the baselines, the targets, the scaling summary."""
    from upsell.bench.suite_markdown import markdown

    return markdown(results)


def render_png(results: dict, path: Path) -> Path:
    """The scaling plot (run time and peak RSS vs input size, stage mix per scale) as PNG."""
    from upsell.bench.suite_plot import scaling_chart

    path.parent.mkdir(parents=True, exist_ok=True)
    scaling_chart(results).save(str(path), ppi=110)
    return path


CONTENDERS = (("bare", "bare DuckDB read_csv"), ("full", "full nightly run"),
              ("incremental", "incremental nightly run"), ("airflow", "full run via Airflow"),
              ("baseline3", "project on Postgres target"), ("baseline2", "pandas + to_sql → Postgres"))


def contender_points(entry: dict) -> list[dict]:
    """One scale's contenders as (contender, seconds, peak RSS): the bare read's median, a
    night's in-process total, the others' process wall time. Failed or absent ones are left out."""
    points = []
    for key, label in CONTENDERS:
        c = ok(entry.get(key))
        if not c:
            continue
        seconds = c["median_s"] if key == "bare" else c["stages"]["total"] if key in ("full", "incremental") \
            else c["wall_s"]
        points.append({"key": key, "contender": label, "seconds": seconds, "peak_rss_gib": c["peak_rss_gib"]})
    return points


def input_mb(entry: dict) -> float:
    """The scale's input size in MB (10^6 bytes, compressed files as stored)."""
    return entry["input_bytes"] / 1e6
