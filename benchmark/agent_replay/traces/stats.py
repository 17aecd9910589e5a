"""Numbers that describe a list of traces (agents, steps, tokens per agent, tool output sizes)."""
import statistics

from benchmark.agent_replay.traces.scaling import DEFAULT, Caps, Counter
from benchmark.agent_replay.workload import AgentTrace


def context_tokens(trace: AgentTrace, count: Counter, caps: Caps = DEFAULT) -> int:
    """Tokens of the whole un-transformed context of ``trace`` (as `scaling.fit_agent` counts)."""
    texts = [trace.system, trace.task] + [t for s in trace.steps
                                          for t in (s.assistant, s.tool_output)]
    return sum(count(t) for t in texts) + caps.per_message_tokens * len(texts)


def _q(values: list, q: float):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))] if values else None


def trace_stats(traces: list[AgentTrace], count: Counter) -> dict:
    tokens = [context_tokens(t, count) for t in traces]
    tool = [count(s.tool_output) for t in traces for s in t.steps]
    steps = [len(t.steps) for t in traces]
    tool_s = [s.tool_s for t in traces for s in t.steps]
    return {"agents": len(traces), "steps_total": sum(steps),
            "steps_min": min(steps, default=0), "steps_max": max(steps, default=0),
            "tokens_per_agent_mean": round(statistics.mean(tokens)) if tokens else 0,
            "tokens_per_agent_max": max(tokens, default=0),
            "tool_output_tokens_p50": _q(tool, 0.5), "tool_output_tokens_p90": _q(tool, 0.9),
            "tool_output_tokens_max": max(tool, default=0),
            "tool_s_mean": round(statistics.mean(tool_s), 3) if tool_s else 0.0,
            "agents_cut": sum(1 for t in traces if t.cuts)}
