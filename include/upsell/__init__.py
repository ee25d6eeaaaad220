"""Upsell / cross-sell warehouse: ingestion, generation and pipeline functions shared by CLI and DAGs."""
