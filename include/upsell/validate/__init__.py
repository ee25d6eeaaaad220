"""Great Expectations gates: raw data after ingestion, marts before publish.

Each expectation carries a severity: ``critical`` (GX's name for our *error* level) blocks
publish; ``warning`` is reported. DuckDB data is validated as pandas DataFrames fetched
through Arrow — GX 1.x's SQL path fails on DuckDB (an upstream bug) — per loaded file
for raw data (bounded memory at L scale) and whole for marts.
"""

from upsell.validate.run import ValidationReport, validate_marts, validate_raw

__all__ = ["ValidationReport", "validate_marts", "validate_raw"]
