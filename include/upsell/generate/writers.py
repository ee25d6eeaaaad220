"""Export files: CSV (plain or gzip, UTF-8 / UTF-8-BOM / CP932), JSON Lines, Parquet.

A writer takes typed chunks, formats them in the file's :class:`Style`, injects the
planned faults and streams bytes to disk, while counting exactly what the manifest
promises: data records, duplicate copies, and where each bad record is: the physical
line it starts on (embedded newlines in quoted fields shift later lines; that is counted
too) and its record line (the spreadsheet row number, which ingestion reports).
"""

from __future__ import annotations

import csv
import io
import json
import queue
import threading
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from upsell.generate.formats import Style, format_column
from upsell.generate.messy import Injection, corrupt, plan_chunk
from upsell.generate.rng import child_rng
from upsell.generate.schema import DATASETS, SOURCE_OF, header_for

GZIP_LEVEL = 6  # the gzip default: close to level 9 in size on CSV text, several times faster
_QUOTE_RE = r'[",\r\n]'


def escape_csv(arr: pa.Array) -> pa.Array:
    """RFC 4180 quoting, only where a cell needs it (comma, quote, CR or LF)."""
    if pa.types.is_dictionary(arr.type):
        return escape_csv(arr.dictionary).take(arr.indices)
    raw = bytes(_data_bytes(arr))  # a byte scan is ~50x cheaper than a regex per cell
    if not any(ch in raw for ch in (b",", b'"', b"\n", b"\r")):
        return arr
    need = pc.match_substring_regex(arr, _QUOTE_RE)
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
    return pc.if_else(need, quoted, arr)


def _csv_line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="", quoting=csv.QUOTE_MINIMAL).writerow(cells)
    return buf.getvalue()


def _data_bytes(arr: pa.Array) -> memoryview:
    """The contiguous UTF-8 bytes of a (freshly built) string array."""
    if len(arr) == 0:
        return memoryview(b"")
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset: arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    if data is None:
        return memoryview(b"")
    return memoryview(data)[int(offsets[0]): int(offsets[-1])]


class _Sink:
    """Bytes to a file, optionally through gzip (mtime 0: reproducible bytes).

    Compression runs on a worker thread (zlib releases the GIL), overlapping with the
    formatting of the next chunk: on two cores that nearly halves the time of big files.
    The single worker compresses chunks in order, so the bytes do not depend on timing.
    """

    def __init__(self, path: Path, gzip: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.fh = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.z = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31) if gzip else None
        self.error: BaseException | None = None
        if self.z is not None:
            self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
            self.worker = threading.Thread(target=self._compress, daemon=True)
            self.worker.start()

    def _compress(self) -> None:
        try:
            while (item := self.queue.get()) is not None:
                self.fh.write(self.z.compress(item))
            self.fh.write(self.z.flush())
        except BaseException as exc:  # surfaced by write()/close() on the main thread
            self.error = exc
            while self.queue.get() is not None:
                pass

    def write(self, data: bytes | memoryview) -> None:
        if self.error:
            raise self.error
        if self.z is None:
            self.fh.write(data)
        else:
            self.queue.put(bytes(data))

    def close(self) -> int:
        if self.z is not None:
            self.queue.put(None)
            self.worker.join()
        self.fh.close()
        if self.error:
            raise self.error
        return self.path.stat().st_size


class ExportFile:
    """Common bookkeeping for one output file."""

    format = "csv"

    def __init__(self, root: Path, relpath: str, dataset: str, seed: int) -> None:
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}")
        self.root = root
        self.relpath = relpath
        self.dataset = dataset
        self.seed = seed
        self.rows = 0
        self.duplicates = 0
        self.bad_rows: list[dict] = []
        self.chunks = 0
        self.extra: dict = {}

    def _rng(self, purpose: str) -> np.random.Generator:
        return child_rng(self.seed, "file", self.relpath, purpose, self.chunks)

    def entry(self, size: int) -> dict:
        out = {
            "dataset": self.dataset,
            "source": SOURCE_OF[self.dataset],
            "format": self.format,
            "rows": self.rows,
            "duplicate_rows": self.duplicates,
            "bad_rows": sorted(self.bad_rows, key=lambda b: b["line"]),
            "bytes": size,
        }
        out.update(self.extra)
        return out


class CsvExport(ExportFile):
    """A CSV export, written chunk by chunk."""

    def __init__(self, root: Path, relpath: str, dataset: str, seed: int, *,
                 style: Style | None = None, header: str = "canonical", encoding: str = "utf-8",
                 newline: str = "\n", trailing_empty: int = 0) -> None:
        super().__init__(root, relpath, dataset, seed)
        if encoding not in ("utf-8", "utf-8-sig", "cp932"):
            raise ValueError(encoding)
        self.style = style or Style()
        self.encoding = encoding
        self.newline = newline
        self.trailing = "," * trailing_empty
        self.gzip = relpath.endswith(".gz")
        self.sink = _Sink(root / relpath, self.gzip)
        self.line = 1  # physical lines written so far
        self.header_cells = header_for(dataset, header)
        head = _csv_line(self.header_cells) + self.trailing + newline
        prefix = "\ufeff" if encoding == "utf-8-sig" else ""
        self._emit_text(prefix + head)
        self.extra = {"encoding": encoding, "compression": "gzip" if self.gzip else None,
                      "header": header, "line_terminator": "CRLF" if newline == "\r\n" else "LF",
                      "trailing_empty_columns": trailing_empty}

    def _emit_text(self, text: str) -> None:
        enc = "cp932" if self.encoding == "cp932" else "utf-8"
        self.sink.write(text.encode(enc))

    def write(self, table: pa.Table, injection: Injection | None = None,
              eligible: np.ndarray | None = None) -> None:
        """Format ``table`` (canonical columns, typed) and append it, with faults."""
        cols = DATASETS[self.dataset]
        n = table.num_rows
        if n == 0 and not injection:
            return
        rng = self._rng("format")
        text = [format_column(table.column(c.name), c.type, self.style, rng) for c in cols]
        records = pc.binary_join_element_wise(*[escape_csv(t) for t in text], ",")
        if self.trailing:
            records = pc.binary_join_element_wise(records, pa.scalar(self.trailing), "")
        raw = np.frombuffer(_data_bytes(records), dtype=np.uint8)
        has_nl = bool(np.count_nonzero(raw == 10))
        if has_nl:
            nl = np.asarray(pc.count_substring(records, "\n"), dtype=np.int64)
        else:
            nl = np.zeros(n, dtype=np.int64)
        extra: list[str] = []
        order = np.arange(n)
        bad_at: list[tuple[int, str]] = []  # (index into extra, kind)
        if injection and (injection.duplicates or injection.bad):
            ok = np.ones(n, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
            ok &= nl == 0
            frng = self._rng("faults")
            dup_src, dup_pos, bad_src, bad_pos, injection = plan_chunk(frng, n, ok, injection)
            positions: list[int] = []
            for s, p in zip(dup_src, dup_pos, strict=True):
                extra.append(records[s].as_py())
                positions.append(p)
            for k, (s, p, kind) in enumerate(zip(bad_src, bad_pos, injection.bad, strict=True)):
                fields = {c.name: text[j][s].as_py() for j, c in enumerate(cols)}
                cells = corrupt(self.dataset, fields, kind, len(self.bad_rows) + k + 1)
                bad_at.append((len(extra), kind))
                extra.append(_csv_line(cells) + self.trailing)
                positions.append(p)
            order = np.insert(order, np.array(positions, dtype=np.int64),
                              n + np.arange(len(extra)))
            records = pa.concat_arrays([records, pa.array(extra, pa.string())]).take(pa.array(order))
            nl = np.concatenate([nl, np.zeros(len(extra), dtype=np.int64)])[order]
            self.duplicates += len(dup_src)
        # physical start line of each record
        if has_nl or bad_at:
            starts = self.line + 1 + np.arange(len(order)) + np.concatenate([[0], np.cumsum(nl)[:-1]])
            inserted = np.flatnonzero(order >= n)
            where = dict(zip((order[inserted] - n).tolist(), inserted.tolist(), strict=True))
            for e, kind in bad_at:
                # line: physical start line; record_line: the spreadsheet row number (header = 1,
                # a quoted line break does not count), which is what ingestion reports
                self.bad_rows.append({"line": int(starts[where[e]]), "record_line": self.rows + where[e] + 2,
                                      "kind": kind})
        self.line += len(order) + int(nl.sum())
        self.rows += len(order)
        lines = pc.binary_join_element_wise(records, pa.scalar(self.newline), "")
        data = _data_bytes(lines)
        if self.encoding == "cp932":
            self.sink.write(bytes(data).decode("utf-8").encode("cp932"))
        else:
            self.sink.write(data)
        self.chunks += 1

    def close(self) -> dict:
        return self.entry(self.sink.close())


class JsonlExport(ExportFile):
    """JSON Lines: one object per line, canonical keys; some numbers arrive as strings."""

    format = "jsonl"

    def __init__(self, root: Path, relpath: str, dataset: str, seed: int, *,
                 style: Style | None = None, string_numbers: float = 0.1) -> None:
        super().__init__(root, relpath, dataset, seed)
        self.style = style or Style(ts="iso_jst")
        self.string_numbers = string_numbers
        self.sink = _Sink(root / relpath, relpath.endswith(".gz"))
        self.extra = {"encoding": "utf-8", "compression": None, "header": None,
                      "line_terminator": "LF", "trailing_empty_columns": 0}

    def write(self, table: pa.Table, injection: Injection | None = None) -> None:
        cols = DATASETS[self.dataset]
        n = table.num_rows
        rng = self._rng("format")
        parts = []
        text_cells = []
        for c in cols:
            arr = table.column(c.name).combine_chunks()
            cell = format_column(arr, c.type, self.style, rng)
            if pa.types.is_dictionary(cell.type):
                cell = cell.dictionary.take(cell.indices)
            if pc.any(pc.match_substring_regex(cell, r'["\\\x00-\x1f]')).as_py():
                raise ValueError(f"{self.dataset}.{c.name}: value needs JSON escaping")
            text_cells.append(cell)
            quoted = pc.binary_join_element_wise('"', cell, '"', "")
            if c.type in ("int", "money", "number"):
                as_str = rng.random(n) < self.string_numbers
                value = pc.if_else(pa.array(as_str), quoted, cell)
            elif c.type == "bool":
                value = cell
            else:
                value = quoted
            value = pc.if_else(pc.is_valid(arr), value, "null")
            parts.append(pc.binary_join_element_wise(f'"{c.name}": ', value, ""))
        body = pc.binary_join_element_wise(*parts, ", ")
        records = pc.binary_join_element_wise("{", body, "}", "")
        order = np.arange(n)
        extra: list[str] = []
        kinds: list[str] = []
        if injection and (injection.duplicates or injection.bad):
            frng = self._rng("faults")
            dup_src, dup_pos, bad_src, bad_pos, injection = plan_chunk(frng, n, np.ones(n, bool),
                                                                        injection)
            positions = []
            for s, p in zip(dup_src, dup_pos, strict=True):
                extra.append(records[s].as_py())
                kinds.append("")
                positions.append(p)
            for k, (s, p, kind) in enumerate(zip(bad_src, bad_pos, injection.bad, strict=True)):
                if kind == "wrong_column_count":
                    raise ValueError("JSON Lines has no column count to get wrong")
                fields = {c.name: text_cells[j][s].as_py() for j, c in enumerate(cols)}
                cells = corrupt(self.dataset, fields, kind, len(self.bad_rows) + k + 1)
                extra.append(json.dumps(dict(zip([c.name for c in cols], cells, strict=True)),
                                        ensure_ascii=False))
                kinds.append(kind)
                positions.append(p)
            order = np.insert(order, np.array(positions, dtype=np.int64), n + np.arange(len(extra)))
            records = pa.concat_arrays([records, pa.array(extra, pa.string())]).take(pa.array(order))
            self.duplicates += len(dup_src)
            for i in np.flatnonzero(order >= n).tolist():
                kind = kinds[int(order[i]) - n]
                if kind:
                    self.bad_rows.append({"line": self.rows + i + 1, "record_line": self.rows + i + 1,
                                          "kind": kind})
        self.rows += len(order)
        self.sink.write(_data_bytes(pc.binary_join_element_wise(records, pa.scalar("\n"), "")))
        self.chunks += 1

    def close(self) -> dict:
        return self.entry(self.sink.close())


class ParquetExport(ExportFile):
    """A Parquet file with canonical column names and native types."""

    format = "parquet"

    def __init__(self, root: Path, relpath: str, dataset: str, seed: int) -> None:
        super().__init__(root, relpath, dataset, seed)
        self.tables: list[pa.Table] = []
        self.extra = {"encoding": None, "compression": "snappy", "header": "canonical",
                      "line_terminator": None, "trailing_empty_columns": 0}

    def write(self, table: pa.Table) -> None:
        self.tables.append(table)
        self.rows += table.num_rows

    def close(self) -> dict:
        path = self.root / self.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.concat_tables(self.tables), path, compression="snappy")
        return self.entry(path.stat().st_size)
