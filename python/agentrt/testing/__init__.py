"""Helpers shared by the test suites and quick benchmarks (tiny models built locally)."""
