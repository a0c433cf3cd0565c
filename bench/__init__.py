"""Benchmark scripts (run each as `python bench/<name>.py`). A package so that the load
scripts and the concurrency tests (tests/load/) share one harness: bench.loadlib."""
