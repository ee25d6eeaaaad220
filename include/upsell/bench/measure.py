"""Measuring tools shared by the benchmarks: fresh-process runs, stage clocks, RSS sampling.

Every contender runs in its own fresh process (``python -m upsell.bench.jobs <job>``) so
that imports, caches and memory of one never help or hurt another. Memory is watched two
ways, because each misses something the other sees:

* a background thread samples the **RSS of a process tree** (the process and all its
  descendants: dbt, Airflow's task runners) every ~0.2 s with psutil. Inside a job it
  attributes each sample to the stage running then (per-stage peaks); from the parent it
  gives the whole contender's tree peak. Summing RSS counts shared pages once per process,
  so the tree figure errs high, which is the safe side for a memory target.
* ``wait4`` returns the kernel's exact ``ru_maxrss`` of the largest single process of the
  tree: a spike shorter than the sampling interval is still seen there. Caveat: a child
  forked from a large benchmark process starts with the parent's pages counted (Linux
  keeps ``ru_maxrss`` across ``exec``), so after the suite generated L-scale files in
  memory this figure reads the suite's size; the sampled tree peak is the one to trust.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

GIB = 2**30
SAMPLE_SECONDS = 0.2


def gib(n_bytes: float) -> float:
    """Bytes as GiB, rounded for a report."""
    return round(n_bytes / GIB, 3)


class RssSampler:
    """The summed RSS of process ``pid`` (default: this one) and all its descendants, sampled
    every ``interval`` seconds on a daemon thread; each sample's maximum is kept overall and
    for the stage named in ``stage`` when it was taken."""

    def __init__(self, pid: int | None = None, interval: float = SAMPLE_SECONDS) -> None:
        import psutil

        self._psutil = psutil
        self.process = psutil.Process(pid)
        self.interval = interval
        self.stage: str | None = None
        self.peak = 0
        self.stage_peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def tree_rss(self) -> int:
        """Bytes resident in the process and its descendants right now (vanished ones skipped)."""
        total = 0
        try:
            procs = [self.process, *self.process.children(recursive=True)]
        except self._psutil.Error:
            return 0
        for proc in procs:
            with contextlib.suppress(self._psutil.Error):
                total += proc.memory_info().rss
        return total

    def sample(self) -> int:
        """Take one sample now and fold it into the overall and the current stage's peak."""
        stage = self.stage
        rss = self.tree_rss()
        self.peak = max(self.peak, rss)
        if stage is not None:
            self.stage_peaks[stage] = max(self.stage_peaks.get(stage, 0), rss)
        return rss

    def enter(self, stage: str | None) -> None:
        """Switch the stage samples are attributed to, with a sample on either side."""
        self.sample()
        self.stage = stage
        self.sample()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


@dataclass
class StageClock:
    """Wall-clock seconds and peak tree RSS per named stage of one job, in the order run."""

    sampler: RssSampler | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name`` and attribute RSS samples taken meanwhile to it."""
        if self.sampler:
            self.sampler.enter(name)
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - t, 3)
            if self.sampler:
                self.sampler.enter(None)

    def result(self) -> dict:
        """``stages`` (seconds, with ``total`` since the clock started) and ``stage_rss_gib``."""
        stages = {**self.seconds, "total": round(time.perf_counter() - self.started, 3)}
        peaks = self.sampler.stage_peaks if self.sampler else {}
        return {"stages": stages, "stage_rss_gib": {k: gib(v) for k, v in peaks.items()},
                "job_peak_rss_gib": gib(self.sampler.peak) if self.sampler else None}


@dataclass(frozen=True)
class TreeRun:
    """One finished child process: exit code, wall seconds, its memory peaks and its CPU
    seconds (user + system, it and its reaped descendants)."""

    returncode: int
    wall_s: float
    peak_tree_bytes: int
    max_process_bytes: int
    cpu_s: float


def run_tree(cmd: list[str], env: dict[str, str] | None = None, log: Path | None = None,
             cwd: Path | None = None) -> TreeRun:
    """Run ``cmd`` to completion (output to ``log``), sampling its process tree's RSS from here.

    ``os.wait4`` reaps it, so its rusage (the largest process among it and its reaped
    descendants) belongs to this child alone, not to every child this process ever had.
    """
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    try:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
                                cwd=cwd)
        with RssSampler(proc.pid) as sampler:
            _pid, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log:
            out.close()
    return TreeRun(proc.returncode, round(wall, 3), sampler.peak, usage.ru_maxrss * 1024,
                   round(usage.ru_utime + usage.ru_stime, 3))


class JobFailed(RuntimeError):
    """A benchmark job exited non-zero (the message carries the tail of its output)."""


def measure(job: str, *args: str, env: dict[str, str] | None = None, log: Path) -> dict:
    """Run ``python -m upsell.bench.jobs <job> <args>`` in a fresh process.

    Returns the job's JSON result (its last output line) plus ``wall_s`` (the whole process,
    interpreter start-up included), ``cpu_s`` (its user + system time), ``peak_rss_gib``
    (sampled tree peak) and ``max_process_rss_gib`` (exact peak of the largest single process).
    """
    run = run_tree([sys.executable, "-m", "upsell.bench.jobs", job, *args], env=env, log=log)
    lines = log.read_text(errors="replace").strip().splitlines()
    if run.returncode or not lines:
        raise JobFailed(f"benchmark job {job} failed (exit {run.returncode}); log {log}:\n"
                        + "\n".join(lines[-60:]))
    return {**json.loads(lines[-1]), "wall_s": run.wall_s, "cpu_s": run.cpu_s,
            "peak_rss_gib": gib(run.peak_tree_bytes),
            "max_process_rss_gib": gib(run.max_process_bytes)}


def input_groups(landing: Path) -> dict[str, tuple[str, list[str]]]:
    """Every input file of the landing folder, grouped by dataset and reader (for bare reads)."""
    from upsell.discover import discover

    groups: dict[str, tuple[str, list[str]]] = {}
    files, _ignored = discover(landing)
    for lf in files:
        if lf.format == "xlsx":
            continue
        kind = "parquet" if lf.format == "parquet" else "json" if lf.format.startswith("json") else "csv"
        name = f"{lf.dataset}_{kind}"
        groups.setdefault(name, (kind, []))[1].append(str(lf.path.resolve()))
    return groups


def ensure_data(out: Path, scale: str, seed: int) -> Path:
    """The generated landing folder ``<out>/<scale>``, generated first when missing."""
    data = out / scale
    if not (data / "MANIFEST.json").exists():
        from upsell.generate import generate

        print(f"generating scale {scale} into {data} ...", flush=True)
        generate(data, scale, seed)
    return data


def link_landing(data: Path, landing: Path) -> Path:
    """A landing folder of symlinks to ``data``'s export files: jobs may add files to it (the
    next night's) without touching the generated data, which other runs share."""
    for f in sorted(data.rglob("*")):
        if f.is_file() and f.parent != data:
            (landing / f.parent.name).mkdir(parents=True, exist_ok=True)
            os.symlink(f.resolve(), landing / f.parent.name / f.name)
    return landing
