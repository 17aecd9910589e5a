"""Latency percentiles of a replay's turns, and of several repeats pooled.

One rule for every percentile in the benchmark: nearest rank, the upper middle for a median
(``pct``). A system's repeats are pooled (``pooled_percentiles``): its p99 is the p99 of all its
turns' samples, not the mean of each repeat's p99. A mean of tail quantiles is no quantile: with
~250 token gaps a replay's TBT p99 is its third-largest gap, so one overlap of a long prefill
with a decoding turn in one repeat moves the mean of two p99s by half its size.

The samples (the compact turn records of report.turn_records): a commit turn's TTFT, an ordinary
turn's TTFT (a cold first turn, step 0, is neither), and the gaps between a turn's streamed
chunks (``gaps_ms``: TBT).
"""
from typing import Optional

TTFT_KEYS = ("commit_ttft_p50_ms", "commit_ttft_p99_ms", "ordinary_ttft_p50_ms",
             "ordinary_ttft_p99_ms")
TBT_KEYS = ("tbt_p50_ms", "tbt_p99_ms")


def pct(values, q):
    """The q-quantile of ``values`` (seconds) in ms, nearest rank; None when empty."""
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))] * 1000, 1)


def _quantile_ms(values_ms: list[float], q: float) -> Optional[float]:
    return pct([v / 1000 for v in values_ms], q)


def pooled_percentiles(turn_lists: list[list[dict]]) -> dict:
    """The percentile keys over all the turn records of ``turn_lists`` (one list per repeat),
    each key only where every repeat has what it needs: TTFT keys when every repeat has turns
    (and there are such turns), TBT keys when besides every turn keeps its ``gaps_ms``."""
    if not turn_lists or not all(turn_lists):
        return {}
    turns = [t for ts in turn_lists for t in ts]
    commit = [t["ttft_ms"] for t in turns if t.get("kind") == "commit"]
    ordinary = [t["ttft_ms"] for t in turns
                if t.get("kind") == "ordinary" and t.get("step", 0) > 0]
    out = {"commit_ttft_p50_ms": _quantile_ms(commit, 0.5),
           "commit_ttft_p99_ms": _quantile_ms(commit, 0.99),
           "ordinary_ttft_p50_ms": _quantile_ms(ordinary, 0.5),
           "ordinary_ttft_p99_ms": _quantile_ms(ordinary, 0.99)}
    if all("gaps_ms" in t for t in turns):
        gaps = [g for t in turns for g in t["gaps_ms"]]
        out.update(tbt_p50_ms=_quantile_ms(gaps, 0.5), tbt_p99_ms=_quantile_ms(gaps, 0.99))
    return {k: v for k, v in out.items() if v is not None}
