"""The sample-data generator: determinism, manifest exactness, messy forms, sizes.

The manifest is what ingestion tests assert against, so it is checked here against an
independent re-read of every file with Python's csv/json modules (not with the
generator's own code): row counts, duplicate copies, the physical line of each bad row,
and the distinct records per dataset after newest-wins.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import gzip
import io
import json
import unicodedata
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from upsell.generate import expected_sizes, generate, scale_params
from upsell.generate.params import TARGETS
from upsell.generate.schema import DATASETS, KEYS, SALESFORCE_DEALS

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "include" / "sample"
JST = dt.timezone(dt.timedelta(hours=9))


@pytest.fixture(scope="module")
def s42(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("gen") / "s42"
    return out, generate(out, "S", 42)


@pytest.fixture(scope="module")
def s42_data(s42: tuple[Path, dict]) -> dict[str, list[dict]]:
    """Every good row of the S sample, parsed by the independent reader below."""
    return load(*s42)


# --- an independent reader ------------------------------------------------------------

def _text(path: Path, entry: dict) -> str:
    raw = path.read_bytes()
    if entry["compression"] == "gzip":
        raw = gzip.decompress(raw)
    return raw.decode(entry["encoding"])


def read_records(path: Path, entry: dict) -> tuple[list[str] | None, list[tuple[int, tuple]]]:
    """(header, [(physical start line, cells)]) of a CSV or JSON Lines export."""
    text = _text(path, entry)
    if entry["format"] == "jsonl":
        lines = text.split("\n")
        assert lines[-1] == "", "JSON Lines ends with a newline"
        return None, [(i + 1, tuple(json.loads(line).items())) for i, line in enumerate(lines[:-1])]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    records = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        records.append((start, tuple(row)))
    return header, records


def _norm(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).strip().lower().split())


def header_map(dataset: str, header: list[str]) -> dict[int, str]:
    names = {}
    for c in DATASETS[dataset]:
        names[_norm(c.name)] = c.name
        if c.ja:
            names[_norm(c.ja)] = c.name
    if dataset == "deals":
        names.update({_norm(v): k for k, v in SALESFORCE_DEALS.items()})
    out = {i: names[_norm(h)] for i, h in enumerate(header) if h.strip()}
    assert sorted(out.values()) == sorted(c.name for c in DATASETS[dataset]), header
    return out


def parse_ts(text: str) -> dt.datetime:
    t = unicodedata.normalize("NFKC", text).strip()
    if t.endswith("Z"):
        return dt.datetime.fromisoformat(t[:-1] + "+00:00")
    if "T" in t:
        return dt.datetime.fromisoformat(t)
    date, time = t.split(" ")
    y, m, d = (int(x) for x in date.replace("/", "-").split("-"))
    parts = [int(x) for x in time.split(":")] + [0]
    return dt.datetime(y, m, d, parts[0], parts[1], parts[2], tzinfo=JST)


def parse_date(text: str) -> dt.date:
    y, m, d = (int(x) for x in unicodedata.normalize("NFKC", text).replace("/", "-").split("-"))
    return dt.date(y, m, d)


def parse_number(text: str) -> float:
    return float(unicodedata.normalize("NFKC", text).replace("¥", "").replace(",", ""))


BOOLS = {"true": True, "1": True, "yes": True, "はい": True, "○": True,
         "false": False, "0": False, "no": False, "いいえ": False, "×": False}


def load(root: Path, manifest: dict) -> dict[str, list[dict]]:
    """Good rows of every dataset, typed, duplicates collapsed, bad rows skipped."""
    rows: dict[str, list[dict]] = collections.defaultdict(list)
    for rel, entry in manifest["files"].items():
        ds = entry["dataset"]
        if entry["format"] == "parquet":
            rows[ds].extend(pq.read_table(root / rel).to_pylist())
            continue
        header, records = read_records(root / rel, entry)
        bad = {b["line"] for b in entry["bad_rows"]}
        seen = set()
        cols = {c.name: c for c in DATASETS[ds]}
        hmap = header_map(ds, header) if header else None
        for line, cells in records:
            if line in bad or cells in seen:
                continue
            seen.add(cells)
            raw = {hmap[i]: v for i, v in enumerate(cells) if i in hmap} if hmap else \
                {k: ("" if v is None else str(v)) for k, v in cells}
            rec = {}
            for name, value in raw.items():
                typ = cols[name].type
                if value == "":
                    rec[name] = None
                elif typ == "timestamp":
                    rec[name] = parse_ts(value)
                elif typ == "date":
                    rec[name] = parse_date(value)
                elif typ in ("int", "money", "number"):
                    rec[name] = parse_number(value)
                elif typ == "bool":
                    rec[name] = BOOLS[value.lower()]
                else:
                    rec[name] = value
            rows[ds].append(rec)
    return rows


def newest(rows: list[dict], dataset: str) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    for r in rows:
        k = tuple(r[c] for c in KEYS[dataset])
        if k not in out or (r.get("updated_at") or dt.datetime.min.replace(tzinfo=JST)) >= \
                (out[k].get("updated_at") or dt.datetime.min.replace(tzinfo=JST)):
            out[k] = r
    return out


# --- manifest exactness ---------------------------------------------------------------

def test_manifest_matches_files(s42: tuple[Path, dict]) -> None:
    root, m = s42
    assert json.loads((root / "MANIFEST.json").read_text(encoding="utf-8")) == m
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert on_disk == sorted([*m["files"], *m["ignored"], "MANIFEST.json"])
    for rel, entry in m["files"].items():
        assert (root / rel).stat().st_size == entry["bytes"], rel
        if entry["format"] == "parquet":
            assert pq.read_table(root / rel).num_rows == entry["rows"]
            continue
        header, records = read_records(root / rel, entry)
        assert len(records) == entry["rows"], rel
        copies = collections.Counter(cells for _, cells in records)
        assert sum(n - 1 for n in copies.values()) == entry["duplicate_rows"], rel
        by_line = dict(records)
        width = len(header) if header else None
        for bad in entry["bad_rows"]:
            cells = by_line[bad["line"]]  # a record starts exactly on that line
            assert copies[cells] == 1, f"{rel}: bad rows are never duplicated"
            if entry["format"] == "csv":
                assert not any("\n" in c for c in cells)
                assert (len(cells) != width) == (bad["kind"] == "wrong_column_count"), (rel, bad)


def _problems(dataset: str, row: dict[str, str]) -> set[str]:
    """What an ingester would object to in a row of canonical text cells."""
    found = set()
    for c in DATASETS[dataset]:
        value = row.get(c.name, "")
        if value == "":
            continue
        try:
            if c.type == "timestamp":
                parse_ts(value)
            elif c.type == "date":
                parse_date(value)
            elif c.type in ("int", "money", "number"):
                parse_number(value)
            elif c.type == "bool":
                BOOLS[value.lower()]
        except (ValueError, KeyError):
            found.add({"timestamp": "bad_date", "date": "bad_date", "bool": "bad_bool"}
                      .get(c.type, "bad_number"))
        if c.type == "enum" and value not in c.values:
            found.add("unknown_enum")
    if any(row.get(k, "") == "" for k in KEYS[dataset]):
        found.add("missing_key")
    return found


def test_bad_rows_are_what_the_manifest_says(s42: tuple[Path, dict]) -> None:
    root, m = s42
    kinds = collections.Counter()
    for rel, entry in m["files"].items():
        if entry["format"] == "parquet":
            continue
        header, records = read_records(root / rel, entry)
        ds = entry["dataset"]
        hmap = header_map(ds, header) if header else None
        bad = {b["line"]: b["kind"] for b in entry["bad_rows"]}
        for line, cells in records:
            if hmap is None:
                row = {k: ("" if v is None else str(v)) for k, v in cells}
                wrong_width = False
            else:
                row = {name: cells[i] for i, name in hmap.items() if i < len(cells)}
                wrong_width = len(cells) != len(header)
            problems = _problems(ds, row) | ({"wrong_column_count"} if wrong_width else set())
            if line in bad:
                kinds[bad[line]] += 1
                assert problems == {bad[line]}, (rel, line, bad[line], problems)
            else:
                assert not problems, (rel, line, problems, cells)
    assert 5 <= sum(kinds.values()) <= 30
    assert set(kinds) == {"bad_date", "missing_key", "unknown_enum", "bad_number",
                          "wrong_column_count"}


def test_counts_are_distinct_records_after_newest_wins(s42: tuple[Path, dict],
                                                       s42_data: dict) -> None:
    _, m = s42
    data = s42_data
    for ds in DATASETS:
        assert len(newest(data[ds], ds)) == m["counts"][ds], ds
    assert len(data["subscriptions"]) == m["counts"]["subscription_versions"]


# --- messy forms ----------------------------------------------------------------------

def test_cp932_accounts_file(s42: tuple[Path, dict]) -> None:
    root, m = s42
    [rel] = [r for r, e in m["files"].items() if e["encoding"] == "cp932"]
    raw = (root / rel).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp932")
    for ch in "①㈱髙":
        assert ch in text
    assert raw.count(b"\r\n") >= m["files"][rel]["rows"]
    assert text.splitlines()[0] == "取引先ID,取引先名,業種,従業員数,資本金,都道府県,決算月,作成日時,更新日時"
    assert "\n" in "".join(c for _, cells in read_records(root / rel, m["files"][rel])[1]
                           for c in cells), "a quoted multi-line account name"


def test_every_messy_form_is_present(s42: tuple[Path, dict]) -> None:
    root, m = s42
    files = m["files"]
    assert any(e["encoding"] == "utf-8-sig" for e in files.values())
    assert {e["format"] for e in files.values()} == {"csv", "jsonl", "parquet"}
    assert any(e["compression"] == "gzip" for e in files.values())
    assert any(e["header"] == "salesforce" for e in files.values())
    assert any(e["trailing_empty_columns"] for e in files.values())
    assert m["ignored"] == ["crm/export_log.txt"]
    for ds in ("accounts", "deals"):
        assert sum(e["dataset"] == ds for e in files.values()) >= 2, f"{ds} is re-exported"
    text = "".join(_text(root / r, e) for r, e in files.items() if e["format"] != "parquet")
    for needle in ("¥", "１", "2025/4/1", "+09:00", "Z,", "はい", "いいえ", "○", "×", "TRUE",
                   ",yes,", ",1,"):
        assert needle in text, needle
    raw = (root / "plan/campaigns.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfcampaign_id,")  # Excel's "CSV UTF-8" BOM
    assert raw.split(b"\r\n")[0].endswith(b",,") and raw.split(b"\r\n")[1].endswith(b",,")


def test_re_export_carries_newer_versions(s42_data: dict) -> None:
    data = s42_data
    for ds in ("accounts", "deals"):
        by_key = collections.defaultdict(list)
        for r in data[ds]:
            by_key[r[KEYS[ds][0]]].append(r)
        changed = [v for v in by_key.values() if len(v) > 1 and
                   len({tuple(sorted((k, str(x)) for k, x in r.items())) for r in v}) > 1]
        assert changed, ds
        for versions in changed:
            assert len({r["updated_at"] for r in versions}) == len(versions)


def test_seed_dm_campaign_reproduces_the_article(s42: tuple[Path, dict], s42_data: dict) -> None:
    _, m = s42
    data = s42_data
    seed = m["seed_dm_campaign"]
    cid = seed["campaign_id"]
    plan = newest(data["campaigns"], "campaigns")[(cid,)]
    assert plan["cost_jpy"] == 1_500_000 and plan["gross_profit_per_deal_jpy"] == 500_000
    assert plan["target_response_rate"] == 0.02
    sends = [r for r in data["dm_sends"] if r["campaign_id"] == cid]
    assert len(sends) == 1000
    assert sum(r["address_status"] == "undeliverable" for r in sends) == 10
    lo = plan["start_date"]
    hi = plan["end_date"] + dt.timedelta(days=plan["attribution_window_days"])
    inquiries = [a for a in data["activities"] if a["campaign_id"] == cid
                 and a["activity_type"] == "inquiry"
                 and lo <= a["occurred_at"].astimezone(JST).date() <= hi]
    assert len(inquiries) == 18
    leads = {r["lead_id"] for r in data["leads"] if r["campaign_id"] == cid}
    won = [d for d in newest(data["deals"], "deals").values()
           if (d["campaign_id"] == cid or d["lead_id"] in leads) and d["stage"] == "won"
           and lo <= d["closed_at"].astimezone(JST).date() <= hi]
    assert len(won) == seed["won_deals"]
    invoiced = {(r["account_id"]) for r in data["invoices"]}
    assert all(d["account_id"] in invoiced for d in won)


# --- determinism ----------------------------------------------------------------------

def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(s42: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = s42
    again = generate(tmp_path / "again", "S", 42)
    assert _files(tmp_path / "again") == _files(root)
    other = generate(tmp_path / "other", "S", 7)
    assert other["counts"] != again["counts"]
    a, b = _files(root), _files(tmp_path / "other")
    assert a.keys() & b.keys()
    assert all(a[k] != b[k] for k in a.keys() & b.keys() if k != "crm/export_log.txt"
               and not k.endswith(".parquet"))


def test_bundled_sample_is_seed_42(s42: tuple[Path, dict]) -> None:
    """include/sample is exactly what generate(S, 42) writes (gzip members compared unpacked,
    so a different zlib build cannot fail this)."""
    root, m = s42
    fresh, bundled = _files(root), _files(SAMPLE)
    assert fresh.keys() == bundled.keys()
    for k in fresh:
        if k.endswith(".gz"):
            assert gzip.decompress(fresh[k]) == gzip.decompress(bundled[k]), k
        elif k != "MANIFEST.json":
            assert fresh[k] == bundled[k], k
    sample = json.loads(bundled["MANIFEST.json"])
    for e in [*sample["files"].values(), *m["files"].values()]:
        e.pop("bytes")
    assert sample == json.loads(json.dumps(m))
    assert sum(len(v) for v in bundled.values()) < 6_000_000


# --- sizes ----------------------------------------------------------------------------

def test_s_sizes_match_the_calibration(s42: tuple[Path, dict]) -> None:
    _, m = s42
    want = expected_sizes("S")
    for ds, n in want.items():
        assert 0.8 * n <= m["counts"][ds] <= 1.2 * n, (ds, m["counts"][ds], n)
    assert abs(m["counts"]["accounts"] - TARGETS["S"]["accounts"]) <= 0.25 * TARGETS["S"]["accounts"]


@pytest.mark.parametrize("scale", ["M", "L"])
def test_m_and_l_are_sized_by_parameters(scale: str) -> None:
    """M and L are never generated in tests: their size follows from accounts x rates."""
    want = expected_sizes(scale)
    for ds, target in TARGETS[scale].items():
        assert 0.8 * target <= want[ds] <= 1.2 * target, (scale, ds, want[ds], target)
    p = scale_params(scale)
    assert p.email_rows_per_part < want["email_events"]  # big tables come in parts
    assert p.slice_rows <= 1_000_000


def test_unknown_scale_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown scale"):
        generate(tmp_path, "XL", 1)
