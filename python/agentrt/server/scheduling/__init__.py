"""Scheduler-side code: pure scheduling decisions (policy.py), the hooks applying them, counters."""
