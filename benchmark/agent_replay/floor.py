"""The floor under a commit turn's TTFT that the run itself measures.

A prepared commit saves the re-prefill of the transformed context, never the turn's own new
tokens: the tool output the commit request arrives with is prefilled in every system, and the
request queues behind the other agents' turns like any turn. So a commit cannot be cheaper than
an ordinary turn of the same run that prefills as many new tokens at as long a context (a
token's cost grows with its position). On MiniAgent the commit often arrives with one of its
big tool outputs (what crosses the hard threshold), so this floor can sit well above the
ordinary-turn median.

``commit_floor_ms``: for each commit turn, the median TTFT of the ``NEAREST`` ordinary turns of
the same record most like it: the smallest sum of the log ratios of their new tokens (prompt -
cached) and of their prompts; then the median over commits (both nearest rank, upper middle,
as the report's percentiles).
"""
import math
from typing import Optional

NEAREST = 3


def _median(values: list[float]) -> float:
    values = sorted(values)
    return values[len(values) // 2]


def _new_tokens(turn: dict) -> int:
    return max(0, turn["prompt"] - turn["cached"])


def _unlike(a: dict, b: dict) -> float:
    """How unlike two turns' prefill work is: log ratios of new tokens and of prompt tokens."""
    return (abs(math.log((_new_tokens(a) + 1) / (_new_tokens(b) + 1)))
            + abs(math.log((a["prompt"] + 1) / (b["prompt"] + 1))))


def commit_floor_ms(turns: list[dict]) -> Optional[float]:
    """See the module docstring; None without a commit turn or an ordinary one (or without
    token counts)."""
    counted = [t for t in turns if t.get("prompt") is not None and t.get("cached") is not None]
    ordinary = [t for t in counted if t.get("kind") == "ordinary"]
    commits = [t for t in counted if t.get("kind") == "commit"]
    if not ordinary or not commits:
        return None
    floors = []
    for commit in commits:
        nearest = sorted(ordinary, key=lambda t: _unlike(t, commit))[:NEAREST]
        floors.append(_median([t["ttft_ms"] for t in nearest]))
    return round(_median(floors), 1)
