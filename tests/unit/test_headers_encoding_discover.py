"""Header matching, encoding detection and file discovery: pure functions, no warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from upsell.discover import discover, match_dataset
from upsell.encoding import EncodingError, detect_encoding
from upsell.headers import HeaderError, load_mappings, match_header, normalize

REPO = Path(__file__).resolve().parents[2]


def test_normalize_ignores_case_spaces_and_width():
    assert normalize("  Account_ID ") == "account_id"
    assert normalize("ＡＣＣＯＵＮＴ＿ＩＤ") == "account_id"
    assert normalize("取引先ＩＤ") == normalize("取引先ID")
    assert normalize("Account   Name") == "account name"


def test_japanese_aliases_map_to_canonical_columns():
    m = match_header("accounts", ["取引先ID", "取引先名", "作成日時", "更新日時", "決算月"])
    assert m.positions == {"account_id": 0, "account_name": 1, "created_at": 2, "updated_at": 3,
                           "fiscal_year_end_month": 4}


def test_unknown_and_empty_headers_are_ignored_not_fatal():
    m = match_header("nps_responses", ["response_id", "account_id", "score", "responded_at",
                                       "comment", "", ""])
    assert m.ignored == ["comment"]
    assert set(m.positions) == {"response_id", "account_id", "score", "responded_at"}


def test_missing_required_column_names_it():
    with pytest.raises(HeaderError, match="missing required column.*account_name"):
        match_header("accounts", ["account_id", "created_at", "updated_at"])


def test_two_headers_for_one_column_are_ambiguous():
    with pytest.raises(HeaderError, match="ambiguous"):
        match_header("accounts", ["account_id", "取引先ID", "account_name", "created_at", "updated_at"])


@pytest.mark.parametrize("style", ["salesforce", "zoho"])
def test_shipped_mappings_load_and_cover_required_columns(style):
    mappings = load_mappings([REPO / "include" / "mappings" / style])
    assert mappings, f"no mappings shipped for {style}"
    for dataset, mapping in mappings.items():
        headers = list(mapping)  # normalized user headers
        from upsell.contracts import DATASETS

        required = set(DATASETS[dataset].required)
        assert required <= set(mapping.values()), f"{style}/{dataset} misses {required - set(mapping.values())}"
        assert match_header(dataset, headers, mappings).positions


def test_user_mapping_file(tmp_path):
    (tmp_path / "crm.yml").write_text("accounts:\n  Company Code: account_id\n  Company: account_name\n"
                                      "  Created: created_at\n  Modified: updated_at\n", encoding="utf-8")
    mappings = load_mappings([tmp_path])
    m = match_header("accounts", ["Company Code", "COMPANY", "created", "modified"], mappings)
    assert m.positions == {"account_id": 0, "account_name": 1, "created_at": 2, "updated_at": 3}


def test_mapping_to_unknown_column_is_an_error(tmp_path):
    (tmp_path / "crm.yml").write_text("accounts:\n  X: no_such_column\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown column 'no_such_column'"):
        load_mappings([tmp_path])


def test_encoding_detection():
    text = "取引先ID,取引先名\nA1,㈱髙橋①\n"
    assert detect_encoding(text.encode("utf-8")) == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbf" + text.encode("utf-8")) == "utf-8-sig"
    assert detect_encoding(text.encode("cp932")) == "cp932"
    assert detect_encoding(b"account_id\nA1\n") == "utf-8"
    # a multibyte character cut by the sample boundary is not a decoding error
    assert detect_encoding(text.encode("utf-8") + "髙".encode()[:2]) == "utf-8"
    assert detect_encoding(text.encode("cp932") + "髙".encode("cp932")[:1]) == "cp932"


def test_undecodable_bytes_are_refused_not_guessed():
    with pytest.raises(EncodingError, match="neither UTF-8 nor CP932"):
        detect_encoding(b"account_id\nA1,\x85\x40\n")
    with pytest.raises(EncodingError, match="UTF-16"):
        detect_encoding("account_id\n".encode("utf-16"))


@pytest.mark.parametrize("source, name, expected", [
    ("crm", "accounts.csv", ("accounts", ".csv")),
    ("billing", "invoices_20250401.csv", ("invoices", ".csv")),
    ("email", "email_events_part-003.csv.gz", ("email_events", ".csv.gz")),
    ("crm", "nps_responses_2026.jsonl", ("nps_responses", ".jsonl")),
    ("billing", "products.parquet", ("products", ".parquet")),
    ("plan", "campaigns_FY2026.xlsx", ("campaigns", ".xlsx")),
    ("crm", "accountsX.csv", None),
    ("crm", "invoices.csv", None),  # a billing dataset in the crm folder
    ("crm", "accounts.txt", None),
])
def test_match_dataset(source, name, expected):
    assert match_dataset(source, name) == expected


def test_discover_reports_non_exports(tmp_path):
    for rel in ["crm/accounts.csv", "crm/export_log.txt", "billing/invoices_1.csv.gz",
                "misc/readme.md", "crm/old/accounts.csv"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    files, ignored = discover(tmp_path)
    assert [f.relpath for f in files] == ["billing/invoices_1.csv.gz", "crm/accounts.csv"]
    assert {i.relpath for i in ignored} == {"crm/export_log.txt", "misc/", "crm/old/accounts.csv"}
