"""Benchmarks for tessera, run on demand (see README.md)."""
