"""Real tool-calling rollouts from the nemo-gym wheel, read straight out of the zip.

Each ``*.jsonl`` record with ``responses_create_params.input`` and ``response.output`` is one
rollout in OpenAI Responses format. Input and output items form one conversation:

    leading system/developer messages   -> AgentTrace.system
    the user message(s) before any reply -> AgentTrace.task
    reasoning / assistant message / function_call items   -> one step's assistant text
    function_call_output items (and later user messages)   -> that step's tool output

A new step starts when a reply item follows an observation, or when reasoning / a message follows a
function call. The final step with no observation (the agent's answer) is dropped; a rollout with
a call that got no output before the next reply is skipped. Texts are the real ones, cut to the
caps of `scaling.Caps`; tool durations come from Continuum's SWE-bench statistics.
"""
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmark.agent_replay.traces import durations
from benchmark.agent_replay.traces.scaling import (
    DEFAULT,
    Caps,
    Counter,
    RawStep,
    scaled_trace,
)
from benchmark.agent_replay.traces.selection import pick_agents
from benchmark.agent_replay.workload import AgentTrace

DEFAULT_SYSTEM = "You are a helpful assistant that solves the task with the tools you are given."
REPLY_TYPES = {"reasoning", "function_call"}


@dataclass(frozen=True)
class Rollout:
    source: str                 # "<file in the wheel>#<line>"
    system: str
    task: str
    steps: tuple[RawStep, ...]


def text_of(content) -> str:
    """The text of a message's content: a string, or a list of parts with ``text``."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] if isinstance(p, dict) and isinstance(p.get("text"), str)
                         else p if isinstance(p, str) else "" for p in content).strip()
    return str(content)


def _kind(item: dict) -> str:
    typ = item.get("type") or ("message" if "role" in item else None)
    if typ == "message":
        return "reply" if item.get("role") == "assistant" else f"message:{item.get('role')}"
    if typ in REPLY_TYPES:
        return "reply"
    if typ == "function_call_output":
        return "observation"
    return "other"


def render(item: dict) -> str:
    typ = item.get("type") or "message"
    if typ == "reasoning":
        parts = (item.get("summary") or []) + (item.get("content") or [])
        return text_of(parts)
    if typ == "function_call":
        return f"[call {item.get('name')}] {item.get('arguments', '')}"
    if typ == "function_call_output":
        out = text_of(item.get("output"))
        return out if out.strip() else "(no output)"
    role = item.get("role")
    text = text_of(item.get("content"))
    return text if role == "assistant" else f"[{role}] {text}"


def parse_record(record: dict, source: str = "") -> Rollout | None:
    """One rollout as system, task and raw steps; None when it is not a complete tool-use run."""
    params, response = record.get("responses_create_params"), record.get("response")
    if not isinstance(params, dict) or not isinstance(response, dict):
        return None
    inp = params.get("input") or []
    inp = [{"type": "message", "role": "user", "content": inp}] if isinstance(inp, str) else inp
    items = [i for i in list(inp) + list(response.get("output") or []) if isinstance(i, dict)]
    system, task, pos = [], [], 0
    while pos < len(items) and _kind(items[pos]) in ("message:system", "message:developer"):
        system.append(text_of(items[pos].get("content")))
        pos += 1
    while pos < len(items) and _kind(items[pos]) == "message:user":
        task.append(text_of(items[pos].get("content")))
        pos += 1
    steps: list[RawStep] = []
    reply: list[str] = []
    obs: list[str] = []
    called = False
    for item in items[pos:]:
        kind = _kind(item)
        if kind == "other" or not render(item).strip():
            continue
        if kind == "reply":
            new_turn = obs or (called and item.get("type") != "function_call")
            if reply and new_turn:
                if not obs:
                    return None          # a call without output, then a new reply
                steps.append(RawStep("\n".join(reply), "\n".join(obs)))
                reply, obs, called = [], [], False
            reply.append(render(item))
            called = called or item.get("type") == "function_call"
        elif reply:
            obs.append(render(item))
        else:
            task.append(render(item))    # observations before the first reply extend the task
    if reply and obs:
        steps.append(RawStep("\n".join(reply), "\n".join(obs)))
    if not steps or not task:
        return None
    return Rollout(source, "\n\n".join(s for s in system if s) or DEFAULT_SYSTEM,
                   "\n\n".join(task), tuple(steps))


def iter_rollouts(wheel: Path) -> Iterator[Rollout]:
    """Every complete tool-use rollout in the wheel, in a fixed order (file name, line)."""
    with zipfile.ZipFile(wheel) as zf:
        for name in sorted(n for n in zf.namelist() if n.endswith(".jsonl")):
            for line_no, line in enumerate(zf.read(name).decode("utf-8", "replace").splitlines()):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    rollout = parse_record(record, f"{name}#{line_no}")
                    if rollout:
                        yield rollout


def to_trace(rollout: Rollout, agent_id: str, seed: int, caps: Caps, count: Counter,
             max_tool_s: float = 3.0) -> AgentTrace | None:
    """The rollout scaled to ``caps``; None when fewer than ``caps.min_steps`` steps remain."""
    return scaled_trace(agent_id, rollout.system, rollout.task, list(rollout.steps), caps, count,
                        seed, durations.SWE_BENCH, max_tool_s, f"nemo_gym:{rollout.source}")


def load(wheel: Path, n_agents: int, seed: int, count: Counter, caps: Caps = DEFAULT,
         min_tokens: int = 0, max_tool_s: float = 3.0) -> list[AgentTrace]:
    """``n_agents`` rollouts drawn with ``seed`` among those with at least ``caps.min_steps``
    steps and ``min_tokens`` tokens of context after scaling (so the context strategies fire)."""
    rollouts = [r for r in iter_rollouts(wheel) if len(r.steps) >= caps.min_steps]
    return pick_agents(rollouts, lambda rollout, agent_id, trace_seed: to_trace(
        rollout, agent_id, trace_seed, caps, count, max_tool_s),
        n_agents, seed, count, caps, min_tokens, "nemo-gym rollouts")

