"""The benchmark's three regimes (step 10): what each one changes about the same replay.

    idle       tool durations x ``tool_scale`` (one stated factor), so the server with lookahead
               off (ttl_only) is busy 40-60 % of the time, as an agent server on a GPU is
    saturated  tool durations as drawn (Continuum's distributions, clipped at 3 s)
    memory     the KV pool (SGLang's ``--max-total-tokens``) sized to ``pool_contexts`` (1.5)
               agents' contexts, N = 4 even in quick mode: tool-TTL pins should pay here

Every regime runs the same four systems side by side (SYSTEMS below) on desynchronized agents:

- MiniAgent traces are phase-shifted: agent i's big tool outputs (every ``BIG_PERIOD`` = 9th
  step) come ``i x 9 / N`` steps earlier than agent 0's (``trace_phase``), so the agents cross
  the hard threshold, and commit, at different steps. Real traces (nemo_gym, bfcl) already
  differ per agent.
- The idle regime calibrates itself (``calibrated_scale``): its first replay is ttl_only; when
  ttl_only's busy share falls outside ``targets.BUSY_RANGE`` (the machine is faster or slower
  than the one the scale was set on), the tool scale is recomputed from that replay and ttl_only
  runs again (at most ``CALIBRATIONS`` times); the run reports the scale it ran at.
- Agent i starts ``i x START_FRACTION`` (0.5) of its mean step time after agent 0
  (``start_offsets``; mean step time: the trace's mean tool duration after scaling plus
  ``TURN_S_ESTIMATE``, a turn's model time on this CPU); this replaces run.py's fixed
  ``--arrival-s`` stagger.

An agent's context: the budget (its context stays below it; commits at 0.8 of it), so the memory
pool is ``round(pool_contexts x budget)`` tokens.
"""
from dataclasses import dataclass, replace
from typing import Optional

from benchmark.agent_replay.targets import BUSY_RANGE
from benchmark.agent_replay.workload import AgentTrace

SYSTEMS = ("vanilla", "ttl_only", "kernel_only", "agentrt")
CALIBRATIONS = 2               # at most this many ttl_only replays re-scale the idle regime
BIG_PERIOD = 9                 # workload.miniagent: a big tool output every 9th step
START_FRACTION = 0.5
TURN_S_ESTIMATE = 1.0          # seconds of model time a turn takes (8 tokens, ~4k context)


@dataclass(frozen=True)
class Regime:
    name: str
    tool_scale: float               # full mode's tool-duration factor
    quick_tool_scale: float
    agents: int                     # full mode; quick: quick_agents
    quick_agents: int
    pool_contexts: Optional[float] = None   # KV pool in agents' contexts (None: 65,536 tokens)
    workload_tool_scales: tuple[tuple[str, float], ...] = ()   # full mode's factor where a
                                                               # workload needs its own


# full mode's idle scales: the calibration's results on this 2-core CPU (benchmark/README.md,
# 2 Dec: MiniAgent x16.87 gave ttl_only 50 % busy, nemo-gym x27.19 53 %; nemo-gym's tool calls are
# short next to its turns); the calibration re-scales them when the machine's speed moved
REGIMES = {r.name: r for r in (
    Regime("idle", tool_scale=17.0, quick_tool_scale=4.0, agents=4, quick_agents=2,
           workload_tool_scales=(("nemo_gym", 27.0),)),
    Regime("saturated", tool_scale=1.0, quick_tool_scale=1.0, agents=4, quick_agents=2),
    Regime("memory", tool_scale=1.0, quick_tool_scale=1.0, agents=4, quick_agents=4,
           pool_contexts=1.5),
)}


@dataclass(frozen=True)
class Settings:
    """What one regime run uses (flags given on the command line win over the regime's)."""
    regime: str
    agents: int
    tool_scale: float
    max_total_tokens: Optional[int]
    systems: tuple[str, ...] = SYSTEMS


def regime_settings(name: str, quick: bool, budget: int, *, agents: Optional[int] = None,
                    tool_scale: Optional[float] = None, workload: str = "") -> Settings:
    """The settings of regime ``name`` for ``workload``; ``agents`` / ``tool_scale`` (flags)
    override its own. Raises KeyError for an unknown regime, ValueError for a non-positive
    override."""
    r = REGIMES[name]
    if agents is not None and agents <= 0 or tool_scale is not None and tool_scale <= 0:
        raise ValueError("agents and tool_scale must be positive")
    full_scale = dict(r.workload_tool_scales).get(workload, r.tool_scale)
    scale = tool_scale if tool_scale is not None else (r.quick_tool_scale if quick
                                                       else full_scale)
    n = agents if agents is not None else (r.quick_agents if quick else r.agents)
    pool = None if r.pool_contexts is None else round(r.pool_contexts * budget)
    return Settings(name, n, scale, pool)


def trace_phase(index: int, n_agents: int) -> int:
    """Steps by which agent ``index``'s big-output cycle is shifted: spread over one period."""
    return (index * BIG_PERIOD // max(1, n_agents)) % BIG_PERIOD


def scale_tools(traces: list[AgentTrace], factor: float) -> list[AgentTrace]:
    """The same traces with every tool duration multiplied by ``factor``."""
    return [replace(t, steps=tuple(replace(s, tool_s=s.tool_s * factor) for s in t.steps))
            for t in traces]


def start_offsets(traces: list[AgentTrace], fraction: float = START_FRACTION,
                  turn_s: float = TURN_S_ESTIMATE) -> list[float]:
    """Seconds after agent 0 at which each agent starts: index x fraction x its mean step time
    (mean tool duration + ``turn_s``)."""
    out = []
    for i, t in enumerate(traces):
        mean_tool = sum(s.tool_s for s in t.steps) / len(t.steps) if t.steps else 0.0
        out.append(round(i * fraction * (mean_tool + turn_s), 3))
    return out


def tool_path_s(traces: list[AgentTrace], offsets: list[float]) -> float:
    """The longest agent's tool time on the run's critical path: its start offset plus its tool
    durations (an agent ends at its last reply: that step's tool time is not replayed)."""
    return max((off + sum(s.tool_s for s in t.steps[:-1]) for t, off in zip(traces, offsets)),
               default=0.0)


def calibrated_scale(scale: float, busy_s: float, wall_s: float, tool_s: float,
                     target: float = sum(BUSY_RANGE) / 2) -> float:
    """The tool scale at which a replay that was busy ``busy_s`` of ``wall_s`` at ``scale``
    (``tool_s`` of it the critical path's tool time) would be busy ``target`` of its wall time:
    the model time on the critical path (``wall_s - tool_s``) and the busy time stay; the tool
    time takes the rest of ``busy_s / target``. Never below a tenth of ``scale``."""
    if tool_s <= 0 or wall_s <= 0:
        return scale
    other = wall_s - tool_s
    return round(scale * max(0.1, (busy_s / target - other) / tool_s), 2)


def regime_traces(workload: str, n_agents: int, seed: int, steps: Optional[int],
                  tool_scale: float, count_tokens=None) -> list[AgentTrace]:
    """The workload's traces for a regime run: MiniAgent phase-shifted per agent
    (``trace_phase``; the same seeds as ``load_workload``), tool durations scaled."""
    from benchmark.agent_replay.traces import load_workload
    from benchmark.agent_replay.workload import miniagent

    if workload == "miniagent":
        traces = [miniagent(f"agent-{i}", seed * 100 + i, steps=steps or 20,
                            phase=trace_phase(i, n_agents)) for i in range(n_agents)]
    else:
        traces = load_workload(workload, n_agents, seed, steps=steps, count_tokens=count_tokens)
    return scale_tools(traces, tool_scale)
