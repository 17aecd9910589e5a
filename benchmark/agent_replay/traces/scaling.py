"""Scale a real trace to the default model's context: cap each text, then cap the whole agent.

SmolLM2-135M has an 8,192-token context; real trajectories run to 50k tokens. Every text is cut
to a per-kind token cap (the head is kept, a marker says that text was cut), then the longest
prefix of steps whose whole context (system + task + every turn + chat-template overhead per
message) fits ``agent_tokens`` is kept. Everything removed is recorded in words in ``cuts``.

    context of an agent after fitting          counted as
    system  task  a1 o1  a2 o2 ... ak ok       sum(count(text)) + per_message * (2 + 2k)
    |<------------- <= agent_tokens --------->|   steps k+1..n dropped
"""
from collections.abc import Callable
from dataclasses import dataclass

from benchmark.agent_replay.traces import durations
from benchmark.agent_replay.workload import AgentTrace, Step

Counter = Callable[[str], int]
MARKER = "\n[... truncated]"


@dataclass(frozen=True)
class Caps:
    system_tokens: int = 600
    task_tokens: int = 600
    assistant_tokens: int = 300
    tool_tokens: int = 600
    agent_tokens: int = 7000       # the whole agent, un-transformed, fits the 8k context
    per_message_tokens: int = 6    # ChatML: <|im_start|>role\n ... <|im_end|>\n
    min_steps: int = 3
    max_steps: int | None = None


DEFAULT = Caps()


@dataclass(frozen=True)
class RawStep:
    """One model turn before scaling: its text (reasoning, reply, calls) and what came back."""
    assistant: str
    observation: str


@dataclass(frozen=True)
class Fitted:
    system: str
    task: str
    steps: tuple[tuple[str, str], ...]   # (assistant, observation) after caps
    tokens: int                          # the whole un-transformed context, as counted
    cuts: tuple[str, ...]
    dropped: int = 0                     # steps cut off the end


def truncate(text: str, cap: int, count: Counter) -> tuple[str, int]:
    """(text cut to at most ``cap`` tokens including MARKER, tokens removed); unchanged if it fits.

    Keeps the longest head ``text[:k]`` with ``count(text[:k] + MARKER) <= cap`` (binary search on
    k, so any counter works: a tokenizer or a word count)."""
    total = count(text)
    if total <= cap:
        return text, 0
    lo, hi = 0, min(len(text), 4 * cap)      # bracket the cut first: counting is the cost
    while hi < len(text) and count(text[:hi] + MARKER) <= cap:
        lo, hi = hi, min(len(text), 2 * hi)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(text[:mid] + MARKER) <= cap:
            lo = mid
        else:
            hi = mid - 1
    head = text[:lo].rstrip()
    return head + MARKER, total - count(head)


def fit_agent(system: str, task: str, steps: list[RawStep], caps: Caps,
              count: Counter) -> Fitted:
    cuts: list[str] = []

    def cap(text: str, limit: int, what: str) -> str:
        out, removed = truncate(text, limit, count)
        if removed:
            cuts.append(f"{what}: {removed} of {count(text)} tokens cut")
        return out

    system = cap(system, caps.system_tokens, "system")
    task = cap(task, caps.task_tokens, "task")
    used = count(system) + count(task) + 2 * caps.per_message_tokens
    kept: list[tuple[str, str]] = []
    limit = len(steps) if caps.max_steps is None else min(len(steps), caps.max_steps)
    for i, raw in enumerate(steps[:limit]):
        a = cap(raw.assistant, caps.assistant_tokens, f"step {i} assistant")
        o = cap(raw.observation, caps.tool_tokens, f"step {i} tool output")
        cost = count(a) + count(o) + 2 * caps.per_message_tokens
        if used + cost > caps.agent_tokens:
            cuts = [c for c in cuts if not c.startswith(f"step {i} ")]
            break
        used += cost
        kept.append((a, o))
    if len(kept) < len(steps):
        cuts.append(f"steps {len(kept)}-{len(steps) - 1} of {len(steps)} dropped "
                    f"(agent cap {caps.agent_tokens} tokens"
                    f"{'' if caps.max_steps is None else f', max {caps.max_steps} steps'})")
    return Fitted(system, task, tuple(kept), used, tuple(cuts), len(steps) - len(kept))


def to_steps(fitted: Fitted, durations: list[float]) -> tuple[Step, ...]:
    return tuple(Step(a, o, d) for (a, o), d in zip(fitted.steps, durations, strict=True))


def scaled_trace(agent_id: str, system: str, task: str, steps: list[RawStep], caps: Caps,
                 count: Counter, seed: int, tool_time: durations.ToolTime, max_tool_s: float,
                 source: str) -> AgentTrace | None:
    """A real agent fitted to ``caps``, with tool durations drawn from ``tool_time``; None when
    fewer than ``caps.min_steps`` steps remain. A rollout cut short ends where the replay cuts
    it, a step limit set before its job starts: its agent is told (``step_limit``); one kept
    whole ends when its model answered, which nobody knows ahead."""
    fitted = fit_agent(system, task, steps, caps, count)
    if len(fitted.steps) < caps.min_steps:
        return None
    tool_s = durations.draw(seed, len(fitted.steps), tool_time, max_tool_s)
    return AgentTrace(agent_id, fitted.system, fitted.task, to_steps(fitted, tool_s),
                      source=source, cuts=fitted.cuts,
                      step_limit=len(fitted.steps) if fitted.dropped else None)
