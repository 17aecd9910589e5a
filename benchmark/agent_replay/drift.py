"""Machine drift: this machine's speed changes by tens of percent within an hour (a shared host),
so systems run one after another can differ by more than the targets' margins for no reason of
their own. A regime run with ``--repeats R`` runs its systems in ABBA order (``run_order``: the
list, then reversed, ...): each system's mean start time is the same, so a linear drift cancels in
the mean over repeats (``combine``). Every replay also records the machine's speed just before its
server starts (``machine_gflops``).

Rules of ``combine`` (the records of one system, one per repeat):
- a number (top level or in a nested dict: ledger, outcomes) becomes its mean over the repeats
  that have one (None: no data); a key missing from a nested dict counts as 0 there (counters);
- the per-turn lists (``CONCATENATED``: turns, commit records, start decisions, waste
  events, longest stalls, TBT tail lines) are concatenated; every other value (a run's
  settings) comes from the first;
- latency percentiles are not means: they are taken over all the repeats' turns pooled
  (percentiles.py), and ``repeat_percentiles`` keeps each repeat's own;
- ``repeats`` says how many were combined and ``jct_runs_s`` lists each repeat's JCT
  (``repeat``, one repeat's number, is dropped);
- ``tbt_tail_causes`` counts what held the gaps at or above the pooled TBT p99, each repeat's
  gaps matched to its own server's stalls (stall_report.py), for a single record too.
"""
import time

from benchmark.agent_replay.percentiles import TBT_KEYS, TTFT_KEYS, pooled_percentiles
from benchmark.agent_replay.stall_report import tail_causes

PROBE_SIZE = 1024         # square float32 matrices: ~2 GFLOP a product
PROBE_PRODUCTS = 8
CONCATENATED = ("turns", "commit_records", "start_decisions", "waste_events", "longest_stalls",
                "tbt_tail")


def run_order(names: list[str], repeat: int) -> list[str]:
    """The systems of repeat ``repeat`` (0-based): the list, then reversed, alternately."""
    return list(names) if repeat % 2 == 0 else list(reversed(names))


def machine_gflops() -> float:
    """Dense float32 matrix products per second on this process's torch threads (GFLOP/s)."""
    import torch

    a, b = torch.randn(PROBE_SIZE, PROBE_SIZE), torch.randn(PROBE_SIZE, PROBE_SIZE)
    a @ b                                     # warm-up: thread pool, allocator
    start = time.perf_counter()
    for _ in range(PROBE_PRODUCTS):
        a @ b
    flops = 2 * PROBE_SIZE ** 3 * PROBE_PRODUCTS
    return round(flops / (time.perf_counter() - start) / 1e9, 1)


def _mean(values: list) -> float:
    mean = sum(values) / len(values)
    return mean if any(isinstance(v, float) for v in values) or mean % 1 else int(mean)


def _merge(key: str, values: list):
    present = [v for v in values if v is not None]
    if not present:
        return None
    first = present[0]
    if key in CONCATENATED:
        return [x for v in present for x in v]
    if isinstance(first, (int, float)) and not isinstance(first, bool):
        return round(_mean(present), 3)
    if isinstance(first, dict) and all(isinstance(v, dict) for v in present):
        keys = dict.fromkeys(k for v in present for k in v)
        return {k: _merge(k, [v.get(k, 0) for v in present]) for k in keys}
    return first


def combine(records: list[dict]) -> dict:
    """One system's repeats as one record (the rules above); a single record is returned as is,
    with its ``tbt_tail_causes``."""
    if len(records) == 1:
        return {**records[0],
                "tbt_tail_causes": tail_causes(records, records[0].get("tbt_p99_ms"))}
    keys = dict.fromkeys(k for r in records for k in r if k != "repeat")
    out = {k: _merge(k, [r.get(k) for r in records]) for k in keys}
    pooled = pooled_percentiles([r.get("turns") for r in records])
    out.update(pooled)
    out["repeat_percentiles"] = {k: [r.get(k) for r in records] for k in TTFT_KEYS + TBT_KEYS
                                 if k in pooled}
    out["repeats"] = len(records)
    out["jct_runs_s"] = [r.get("jct_mean_s") for r in records]
    out["tbt_tail_causes"] = tail_causes(records, pooled.get("tbt_p99_ms"))
    return out
