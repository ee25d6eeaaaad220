"""Benchmarks: measured side by side in one run, reported as ratios (see docs/benchmarks.md)."""
