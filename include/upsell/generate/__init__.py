"""Deterministic sample-data generator: a landing folder of messy exports plus a manifest.

``generate(out_dir, scale, seed)`` writes ``crm/``, ``billing/``, ``email/``, ``plan/`` and
``MANIFEST.json`` (file-by-file row counts, duplicate copies, bad-row line numbers and
kinds, dataset counts) that the ingestion tests assert against. Same seed, same bytes.
"""

from upsell.generate.params import SCALES, expected_sizes, scale_params
from upsell.generate.run import generate

__all__ = ["SCALES", "expected_sizes", "generate", "scale_params"]
