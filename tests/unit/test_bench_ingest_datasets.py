"""The per-dataset ingestion benchmark's table (upsell.bench.ingest_datasets.render)."""

from upsell.bench.ingest_datasets import DatasetResult, Run, render


def _result(group: str, bare: tuple[int, float, float], ours: tuple[int, float, float]) -> DatasetResult:
    return DatasetResult(group, 2, Run(*bare), Run(*ours))


def test_render_orders_by_our_cpu_and_adds_a_total_row():
    table = render([
        _result("leads_csv", (1_000, 0.5, 0.4), (1_000, 0.6, 0.5)),
        _result("email_events_csv", (2_000_000, 4.0, 3.0), (2_000_000, 6.0, 6.5)),
    ]).splitlines()
    assert table[2].startswith("| email_events_csv | 2 | 2,000,000 | 4.0 (3.0) | 2,000,000 | 6.0 (6.5) |")
    # CPU microseconds per row: 3.0 s / 2M rows and 6.5 s / 2M rows
    assert table[2].endswith("| 1.50 / 3.25 |")
    assert table[3].startswith("| leads_csv |")
    assert table[4] == "| **total** | 4 | 2,001,000 | 4.5 (3.4) | 2,001,000 | 6.6 (7.0) | 1.70 / 3.50 |"


def test_render_without_rows_has_no_per_row_figure():
    table = render([_result("campaigns_csv", (0, 0.2, 0.2), (0, 0.3, 0.3))]).splitlines()
    assert table[2].endswith("| - |")
