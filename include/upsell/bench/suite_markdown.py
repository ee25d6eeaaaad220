"""The Markdown of ``suite-report.md``: one section per scale, the targets, the scaling table."""

from __future__ import annotations

from upsell.bench.suite_report import (
    STAGE_ROWS,
    contender_points,
    dominant,
    evaluate_targets,
    expanded_stages,
    input_mb,
    ok,
    ordered_scales,
    ratios,
    stage_rss,
    stage_shares,
)

LABELS = dict(STAGE_ROWS)


def _num(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def _share(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def stage_table(entry: dict) -> list[str]:
    """Full and incremental night side by side: seconds, share of the night, peak RSS."""
    full, inc = entry["full"], entry["incremental"]
    stages = (expanded_stages(full), expanded_stages(inc))
    f_sh = stage_shares(stages[0], full["stages"]["total"])
    i_sh = stage_shares(stages[1], inc["stages"]["total"])
    lines = ["| stage | full s | share | peak RSS GiB | incremental s | share | peak RSS GiB |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for key, label in STAGE_ROWS:
        if key not in stages[0] and key not in stages[1]:
            continue
        lines.append(f"| {label} | {_num(stages[0].get(key), 2)} | {_share(f_sh.get(key))} "
                     f"| {_num(stage_rss(full, key), 2)} | {_num(stages[1].get(key), 2)} "
                     f"| {_share(i_sh.get(key))} | {_num(stage_rss(inc, key), 2)} |")
    lines.append(f"| **total** (peak RSS: whole process tree) | **{_num(full['stages']['total'], 2)}** | 100 % "
                 f"| **{_num(full['peak_rss_gib'], 2)}** | **{_num(inc['stages']['total'], 2)}** | 100 % "
                 f"| **{_num(inc['peak_rss_gib'], 2)}** |")
    air = ok(entry.get("airflow"))
    if air:
        lines.append(f"| Airflow's own overhead (`dags test` wall − CLI wall; share of the Airflow run) "
                     f"| {_num(air['wall_s'] - full['wall_s'], 2)} | {_share(ratios(entry)['airflow_overhead'])} "
                     f"| {_num(air['peak_rss_gib'], 2)} | - | - | - |")
    return lines


def airflow_lines(entry: dict) -> list[str]:
    """The Airflow run and its overhead over the CLI's full run."""
    air = entry.get("airflow")
    if not air:
        return ["Airflow: not run at this scale (`--airflow-scales`)."]
    if "error" in air:
        return [f"Airflow: **failed** — {air['error'][:300]}"]
    overhead = ratios(entry)["airflow_overhead"]
    return [f"Airflow (`airflow dags test upsell_nightly {air['logical_date']}`, SQLite metadata, fresh "
            f"warehouse, its dbt parse made beforehand as a deployment's does): **{air['wall_s']:.1f} s** wall "
            f"vs {entry['full']['wall_s']:.1f} s for the CLI's full "
            f"run process → Airflow's own overhead **{_share(overhead)}** of the Airflow run "
            f"(peak RSS of its process tree {air['peak_rss_gib']:.2f} GiB).", *deployed_lines(entry)]


def deployed_lines(entry: dict) -> list[str]:
    """The DAG under a scheduler (``upsell.bench.airflow_deployed``) and its phases."""
    dep = entry.get("airflow_deployed")
    if not dep:
        return []
    if "error" in dep:
        return ["", f"Airflow deployed: **failed** — {dep['error'][:300]}"]
    phases = ", ".join(f"{label} {dep[key]:.1f} s" for label, key in (
        ("ingest", "ingest_s"), ("raw gate", "validate_raw_s"), ("dbt producer", "dbt_producer_s"),
        ("model watchers", "dbt_watchers_s"), ("validate → report", "after_dbt_s")) if dep.get(key) is not None)
    return ["", f"Airflow deployed (`upsell.bench.airflow_deployed`: execution API server and scheduler, "
                f"LocalExecutor, SQLite; first task's start to last task's end): **{dep['night_s']:.1f} s** vs "
                f"{entry['full']['stages']['total']:.1f} s for the CLI's night → Airflow's own overhead "
                f"**{_share(ratios(entry)['airflow_overhead_deployed'])}** ({dep['tasks']} tasks; {phases})."]


def baseline_table(entry: dict) -> list[str]:
    """Every contender's seconds and RSS against our full run, with the baselines' stages."""
    full_s = entry["full"]["stages"]["total"]
    lines = ["| contender | seconds | × our full run | peak RSS GiB | detail |", "|---|---:|---:|---:|---|"]
    for p in contender_points(entry):
        lines.append(f"| {p['contender']} | {p['seconds']:,.1f} | {p['seconds'] / full_s:.2f} "
                     f"| {p['peak_rss_gib']:.2f} | {_detail(entry, p['key'])} |")
    for key in ("baseline2", "baseline3", "airflow"):
        c = entry.get(key)
        if c and "error" in c:
            lines.append(f"| {key} | failed | | | {c['error'][:200]} |")
    return lines


def _detail(entry: dict, key: str) -> str:
    c = entry[key]
    if key == "bare":
        before_close = f"; before the close {c['seconds_before_close']} s" if c.get("seconds_before_close") else ""
        return f"{c['rows']:,} rows; rounds {c['seconds']} s (before, after; until closed){before_close}"
    if key in ("full", "incremental"):
        return f"{c['rows_read']:,} rows read; process wall {c['wall_s']:.1f} s"
    if key == "baseline2":
        st = c["stages"]
        dbt = "dbt ok" if not c.get("dbt_error") else "dbt FAILED"
        return (f"load {st['load']:.1f} s + dbt {st['dbt']:.1f} s; {c['rows_loaded']:,} rows loaded, "
                f"{c['rows_dropped']:,} dropped ({_reasons(c.get('dropped_by_reason', {}))}); {dbt}")
    if key == "baseline3":
        st = c["stages"]
        return f"ingest {st['ingest']:.1f} s + copy {st['copy']:.1f} s + dbt {st['dbt']:.1f} s"
    return f"logical date {c['logical_date']}"


def _reasons(reasons: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in reasons.items()) or "none"


def dominance_line(entry: dict) -> str:
    """What dominates the full and the incremental night, and dbt's slowest node."""
    parts = []
    for key in ("full", "incremental"):
        run = entry[key]
        top = ", ".join(f"{LABELS.get(k, k)} {v:.0%}" for k, v in dominant(run))
        nodes = run.get("dbt_profile", {}).get("top_nodes") or []
        slow = f"; slowest dbt node {nodes[0][0]} ({nodes[0][1]:.1f} s)" if nodes else ""
        parts.append(f"{key}: {top}{slow}")
    return "**What dominates** — " + "; ".join(parts) + "."


def scale_section(scale: str, entry: dict) -> list[str]:
    """One scale: input, stage table, Airflow, contenders, ingestion throughput, dominance."""
    r = ratios(entry)
    bare = entry["bare"]
    inc = entry["incremental"]
    lines = [f"## Scale {scale}", "",
             f"{entry['input_files']} input files, {input_mb(entry):,.1f} MB, {bare['rows']:,} rows "
             f"(bare read); full run as of {entry['as_of']}, incremental as of {inc['as_of']} "
             f"(+{sum(inc.get('increment', {}).values()):,} rows of the next day). Measured {entry.get('when', '?')}, "
             f"load average {' → '.join(f'{x:.1f}' for x in entry.get('load_average', []))}.", "",
             *stage_table(entry), "", *airflow_lines(entry), "", *baseline_table(entry), "",
             f"Ingestion throughput: {entry['full']['rows_read'] / entry['full']['stages']['ingest']:,.0f} rows/s "
             f"vs bare reader {bare['rows'] / bare['median_s']:,.0f} rows/s "
             f"→ **{_num(r['ingest_throughput_ratio'], 2)}×**.",
             "", dominance_line(entry), ""]
    return lines


def targets_section(results: dict) -> list[str]:
    lines = ["## Targets", "", "| target | at | threshold | measured | status | other scales (informative) |",
             "|---|---|---|---|---|---|"]
    for t in evaluate_targets(results):
        status = {"met": "**met**", "missed": "**missed**"}.get(t["status"], t["status"])
        lines.append(f"| {t['target']} | {t['scale']} | {t['threshold']} | {t['value']} | {status} "
                     f"| {t['elsewhere']} |")
    return [*lines, ""]


def scaling_section(results: dict) -> list[str]:
    """Seconds and peak RSS of every contender at every scale (what the plot shows)."""
    scales = ordered_scales(results)
    points = {s: {p["contender"]: p for p in contender_points(results["scales"][s])} for s in scales}
    contenders = list(dict.fromkeys(c for s in scales for c in points[s]))
    head = " | ".join(f"{s} ({input_mb(results['scales'][s]):,.1f} MB)" for s in scales)
    lines = ["## Scaling S → M → L", "", "Seconds / peak RSS GiB per contender and scale (input MB as stored).", "",
             f"| contender | {head} |", "|---|" + "---:|" * len(scales)]
    for c in contenders:
        cells = [f"{points[s][c]['seconds']:,.1f} s / {points[s][c]['peak_rss_gib']:.2f}" if c in points[s] else "-"
                 for s in scales]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return [*lines, "", "Plot: `docs/bench-scaling.png`.", ""]


def markdown(results: dict) -> str:
    """The report, from the results dict alone."""
    machine = results.get("machine", {})
    dag = ok(results.get("dag_parse"))
    lines = ["# Benchmark suite", "",
             f"Machine: {machine.get('cpus', '?')} CPUs, {machine.get('memory_gib', '?')} GiB RAM. "
             "Seconds: the bare read's median of two rounds, a night's in-process total, the other "
             "contenders' process wall time. Peak RSS: the sampled sum over each contender's process tree.",
             "", *targets_section(results)]
    for scale in ordered_scales(results):
        lines += scale_section(scale, results["scales"][scale])
    if dag:
        lines += ["## DAG parse", "", f"median {dag['median_seconds']:.2f} s over {len(dag['rounds'])} fresh "
                  f"interpreters (max {dag['max_seconds']:.2f} s), {dag['tasks']} tasks, "
                  f"{dag['import_errors']} import errors.", ""]
    lines += scaling_section(results)
    return "\n".join(lines)
