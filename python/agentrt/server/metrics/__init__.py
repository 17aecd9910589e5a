"""Prometheus metrics: request latency (HTTP process), the work ledger (scheduler process)."""
