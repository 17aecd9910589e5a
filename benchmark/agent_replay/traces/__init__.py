"""Agent workloads for the replay benchmark: synthetic MiniAgent and two real-trace sources.

    load_workload("nemo_gym", n_agents=4, seed=0, count_tokens=counter) -> list[AgentTrace]

| name       | source                                                   | tool durations       |
|------------|----------------------------------------------------------|----------------------|
| miniagent  | workload.miniagent (synthetic, SmoothAgent's shape)      | Continuum SWE-bench  |
| nemo_gym   | nemo-gym==0.7.0 wheel: real rollouts (nemo_gym.py)        | Continuum SWE-bench  |
| bfcl       | bfcl-eval==2026.3.23: BFCL v4 long-context (bfcl.py)      | Continuum BFCL       |

Real traces are scaled to the 8k-token default model (scaling.Caps) and each trace says in
``cuts`` what was removed; wheels are fetched once into the cache (fetch.py).
"""
from collections.abc import Callable
from dataclasses import replace

from benchmark.agent_replay.traces import bfcl, nemo_gym
from benchmark.agent_replay.traces.fetch import fetch_wheel
from benchmark.agent_replay.traces.scaling import Caps, Counter
from benchmark.agent_replay.traces.tokens import model_counter
from benchmark.agent_replay.workload import AgentTrace, miniagent

DEFAULT_CAPS = {
    "nemo_gym": Caps(),
    # BFCL's function docs and long-context outputs are the point of the workload: keep more
    "bfcl": Caps(system_tokens=1500, tool_tokens=1500),
}
# smallest un-transformed context of a chosen agent, so that the context strategies fire at the
# benchmark's default budget (run.py: 4,000 tokens, hard trigger at 0.8 x)
DEFAULT_MIN_TOKENS = {"nemo_gym": 4000, "bfcl": 3500}


def _miniagent(n_agents: int, seed: int, steps: int | None, max_tool_s: float,
               **_unused) -> list[AgentTrace]:
    return [miniagent(f"agent-{i}", seed * 100 + i, steps=steps or 20, max_tool_s=max_tool_s)
            for i in range(n_agents)]


def _real(module, wheel_name: str) -> Callable[..., list[AgentTrace]]:
    def load(n_agents: int, seed: int, steps: int | None, max_tool_s: float,
             count_tokens: Counter | None, caps: Caps | None, min_tokens: int | None,
             cache_dir: str | None) -> list[AgentTrace]:
        caps = caps or DEFAULT_CAPS[wheel_name]
        if steps is not None:
            caps = replace(caps, max_steps=steps)
        return module.load(fetch_wheel(wheel_name, cache_dir), n_agents, seed,
                           count_tokens or model_counter(), caps,
                           DEFAULT_MIN_TOKENS[wheel_name] if min_tokens is None else min_tokens,
                           max_tool_s)
    return load


WORKLOADS: dict[str, Callable[..., list[AgentTrace]]] = {
    "miniagent": _miniagent,
    "nemo_gym": _real(nemo_gym, "nemo_gym"),
    "bfcl": _real(bfcl, "bfcl"),
}


def load_workload(name: str, n_agents: int, seed: int, *, steps: int | None = None,
                  count_tokens: Counter | None = None, caps: Caps | None = None,
                  min_tokens: int | None = None, max_tool_s: float = 3.0,
                  cache_dir: str | None = None) -> list[AgentTrace]:
    """``n_agents`` traces of workload ``name`` (a key of WORKLOADS), reproducible from ``seed``.

    steps: miniagent's step count (default 20); for real traces an upper bound on steps.
    count_tokens: str -> tokens used for scaling (default: the default model's tokenizer).
    caps / min_tokens: scaling caps and the smallest context of a chosen agent (real traces).
    """
    if name not in WORKLOADS:
        raise KeyError(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}")
    return WORKLOADS[name](n_agents, seed, steps=steps, max_tool_s=max_tool_s,
                           count_tokens=count_tokens, caps=caps, min_tokens=min_tokens,
                           cache_dir=cache_dir)
