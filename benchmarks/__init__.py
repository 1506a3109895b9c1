"""Benchmark helpers for ``make bench``: synthetic corpora and clustering quality metrics."""
