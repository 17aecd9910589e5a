"""Choosing a workload's agents: a seeded draw among candidate sources, keeping those whose
scaled trace still has enough steps and context for the strategies to fire."""
import random
from collections.abc import Callable, Sequence

from benchmark.agent_replay.traces.scaling import Caps, Counter
from benchmark.agent_replay.traces.stats import context_tokens
from benchmark.agent_replay.workload import AgentTrace


def pick_agents(candidates: Sequence, make_trace: Callable[[object, str, int], AgentTrace | None],
                n_agents: int, seed: int, count: Counter, caps: Caps, min_tokens: int,
                what: str) -> list[AgentTrace]:
    """``n_agents`` traces from ``candidates`` shuffled with ``seed``; ``make_trace(candidate,
    agent_id, trace_seed)`` scales one (None: too few steps left). Raises ValueError naming
    ``what`` when too few qualify."""
    order = list(candidates)
    random.Random(seed).shuffle(order)
    out: list[AgentTrace] = []
    for candidate in order:
        if len(out) == n_agents:
            break
        i = len(out)
        trace = make_trace(candidate, f"agent-{i}", seed * 1000 + i)
        if trace and context_tokens(trace, count, caps) >= min_tokens:
            out.append(trace)
    if len(out) < n_agents:
        raise ValueError(f"only {len(out)} {what} have >= {caps.min_steps} steps and "
                         f">= {min_tokens} tokens after scaling; asked for {n_agents}")
    return out
