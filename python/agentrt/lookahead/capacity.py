"""Capacity-aware start: a preparation starts only when it can finish in time nobody else needs.

The synchronous commit and a lookahead prefill the same tokens; lookahead only moves them into
the server's idle time. Where there is none (a saturated server), a preparation competes with
the foreground and then is re-done or wasted, so the runtime defers it and the commit takes the
synchronous path having spent nothing (outcome ``deferred``).

The rule, checked at each boundary past the soft threshold until a preparation starts::

    need_s = (prepared + catch-up tokens) x the server's measured prefill ms per token
    idle_s = boundaries until the hard threshold x seconds per boundary x (1 - busy share)
    start  iff  need_s <= idle_s

prepared tokens: at most the soft threshold (a transform brings the context below it); catch-up:
the growth until the hard threshold. Boundaries left: tokens to the hard threshold over the
agent's observed growth per boundary (at least one). Seconds per boundary: the agent's observed
wall time between boundaries (its tools and its own model calls). Busy share: the server's
model-step share of recent wall time. Whatever is unknown (a fresh server, the agent's first
boundaries) lets the preparation start, as the soft threshold alone would.
"""
import math
from typing import NamedTuple, Optional


class ServerLoad(NamedTuple):
    prefill_ms_per_token: float   # measured over recent prefill steps (0: not measured yet)
    busy_share: float             # model steps over recent wall time, 0..1


class AgentPace(NamedTuple):
    tokens: int                   # the context now
    soft_tokens: int
    hard_tokens: int
    growth: Optional[float]       # tokens per boundary (None: not observed yet)
    boundary_s: Optional[float]   # wall seconds per boundary (None: not observed yet)


class StartDecision(NamedTuple):
    start: bool
    reason: str
    need_s: float = 0.0
    idle_s: float = 0.0


def decide_start(load: Optional[ServerLoad], pace: AgentPace) -> StartDecision:
    """Start a preparation now, or defer it (see the module docstring)."""
    if load is None or load.prefill_ms_per_token <= 0:
        return StartDecision(True, "server load unknown")
    if not pace.growth or pace.growth <= 0 or not pace.boundary_s:
        return StartDecision(True, "agent pace unknown")
    left = max(0, pace.hard_tokens - pace.tokens)
    boundaries = max(1, math.ceil(left / pace.growth))
    tokens = min(pace.tokens, pace.soft_tokens) + left
    need_s = tokens * load.prefill_ms_per_token / 1e3
    idle_s = boundaries * pace.boundary_s * max(0.0, 1.0 - min(1.0, load.busy_share))
    if need_s <= idle_s:
        return StartDecision(True, "fits in idle time", need_s, idle_s)
    return StartDecision(False, f"needs {need_s:.1f} s of prefill, {idle_s:.1f} s idle before "
                                "the commit", need_s, idle_s)
