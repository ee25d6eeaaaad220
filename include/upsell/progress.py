"""Progress of long work: a live status line on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

log = logging.getLogger("upsell.progress")


class Progress:
    """Counts files, rows and bytes; prints MB/s.

    On a TTY it redraws one line (``\\r``); in Airflow logs or CI it logs one line per file,
    because carriage returns make log files unreadable.
    """

    def __init__(self, total_files: int, stream: TextIO | None = None) -> None:
        self.total_files = total_files
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.done_files = 0
        self.rows = 0
        self.bytes = 0
        self.t0 = time.perf_counter()

    def _rate(self) -> float:
        elapsed = max(time.perf_counter() - self.t0, 1e-9)
        return self.bytes / elapsed / 1e6

    def start_file(self, relpath: str, size: int) -> None:
        if self.tty:
            self.stream.write(
                f"\r\033[K[{self.done_files + 1}/{self.total_files}] {relpath} "
                f"({size / 1e6:.1f} MB) | {self.rows:,} rows | {self._rate():.1f} MB/s")
            self.stream.flush()

    def end_file(self, res) -> None:
        self.done_files += 1
        self.rows += res.rows_read
        self.bytes += res.bytes
        line = (f"[{self.done_files}/{self.total_files}] {res.relpath}: {res.status}, "
                f"{res.rows_read:,} read, {res.rows_loaded:,} loaded, "
                f"{res.rows_quarantined:,} quarantined, {res.duplicates_collapsed:,} duplicates "
                f"({res.bytes / 1e6:.1f} MB, {res.bytes / 1e6 / max(res.seconds, 1e-9):.1f} MB/s)"
                + (f" - {res.message}" if res.status != "loaded" else ""))
        if self.tty:
            self.stream.write("\r\033[K" + line + "\n")
            self.stream.flush()
        else:
            log.info(line)
