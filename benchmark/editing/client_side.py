"""``client_lookahead``: the same agents and the same edit, driven by agentrt's client-side runtime.

Where ``server_lookahead`` sends the full history with ``context_management`` through the
``openai`` SDK, this system runs ``LookaheadRuntime`` (``AgentrtClient``) in the client, as
``benchmark/agent_replay/run.py``'s ``Replay.agent`` does. Rules:

- The edit: ``ClearToolResults(keep_last=keep)`` under ``ContextBudget(trigger, soft, hard=1)``:
  the hard threshold is the server edit's ``trigger``, the soft one ``soft`` x trigger
  (``server_lookahead``'s ``fraction``). Both clear every older tool result to the same
  placeholder. They differ in two ways: the strategy has no ``clear_at_least`` (it clears
  whatever is older than the kept results), and it keeps fewer than ``keep`` results when
  keeping them would leave the commit at or above the soft threshold (never the most recent).
- The runtime counts the context in the server edit's unit (``input_tokens``: each message's
  text leaves, ids and block types left out, joined by newlines, tokenized with the model's
  tokenizer), so the commit comes at the turn the server edit triggers (the server: the count
  exceeds the trigger; the runtime: reaches it). The strategy counts message contents with the
  same tokenizer (``tokenizer_counter``).
- The client keeps the history as ``on_commit`` returned it (the clear stays) and adds each step
  as ``history.step_messages`` has it: the assistant message with its tool call, a segment
  boundary, the tool time (``idle_factor`` x the turn's wall time, as ``server_lookahead``
  waits; the runtime prepares in it), the tool result, a boundary.
- A turn's TTFT is the commit's wait (``CommitRecord.waited_s``) plus the model call's TTFT. A
  commit turn is an ``edit`` turn, ``prepared`` when it swapped to a prepared branch (ready or
  promoted); the first turn is ``cold``, every other ``ordinary``.
"""
import argparse
import asyncio
import functools
import time
from pathlib import Path
from typing import Awaitable, Callable, Optional

from agentrt.editing.work import message_text
from agentrt.lookahead.client import AgentrtClient
from agentrt.lookahead.records import CommitRecord
from agentrt.lookahead.runtime import LookaheadRuntime
from agentrt.lookahead.strategies import ClearToolResults
from agentrt.lookahead.strategy import ContextBudget
from benchmark.agent_replay.traces.tokens import tokenizer_counter
from benchmark.editing.history import history_at, step_messages

NAME = "client_lookahead"


def budget(trigger: int, soft: float) -> ContextBudget:
    """Hard threshold: ``trigger`` tokens (the server edit's); soft: ``soft`` x trigger."""
    return ContextBudget(trigger, soft=soft, hard=1.0)


def strategy(args: argparse.Namespace, count_text: Callable[[str], int]) -> ClearToolResults:
    """The client-side form of ``clear_tool_uses`` with ``--trigger``, ``--soft``, ``--keep``."""
    return ClearToolResults(budget(args.trigger, args.soft), keep_last=args.keep,
                            count_tokens=count_text)


def describe(args: argparse.Namespace) -> dict:
    """What the record says the client ran (it sends no ``context_management``)."""
    b = budget(args.trigger, args.soft)
    return {"strategy": ClearToolResults.name, "keep_last": args.keep,
            "hard_tokens": b.hard_tokens, "soft_tokens": b.soft_tokens}


def model_counter(model_path: Optional[str]) -> Callable[[str], int]:
    """The model's tokenizer (``--model-path``, else the default model, prepared on first use),
    memoized by text."""
    if model_path is None:
        from agentrt.models import prepare_default_model

        model_path = prepare_default_model()
    return functools.lru_cache(maxsize=8192)(tokenizer_counter(Path(model_path)))


def input_tokens(count_text: Callable[[str], int]) -> Callable[[list], Awaitable[int]]:
    """The runtime's ``count_tokens``: the server edit's input tokens (each message's text
    leaves joined by newlines, counted with ``count_text``; summed over messages)."""
    async def count(messages: list[dict]) -> int:
        return sum(count_text(message_text(m)) for m in messages)
    return count


def turn_kind(step: int, committed: bool) -> str:
    """cold (an agent's first turn), edit (a commit turn) or ordinary."""
    if step == 0:
        return "cold"
    return "edit" if committed else "ordinary"


def client_turn(agent: str, step: int, reply, record: Optional[CommitRecord]) -> dict:
    """One turn in the SDK systems' shape; a commit's wait is part of its TTFT."""
    waited = record.waited_s if record is not None else 0.0
    turn = {"agent": agent, "step": step, "ttft_ms": round((reply.ttft_s + waited) * 1e3, 1),
            "prompt": reply.prompt_tokens, "cached": reply.cached_tokens,
            "kind": turn_kind(step, record is not None)}
    if record is not None:
        turn.update(outcome=str(record.outcome), prepared=record.outcome.swapped)
    return turn


async def next_step(rt: LookaheadRuntime, messages: list[dict], trace, k: int,
                    tool_s: float) -> None:
    """Step ``k``'s assistant message and tool result join ``messages``, a boundary after
    each, the tool time between them."""
    reply, result = step_messages(trace.steps[k], k)
    messages.append(reply)
    await rt.on_segment_boundary(messages)
    await asyncio.sleep(tool_s)
    messages.append(result)
    await rt.on_segment_boundary(messages)


async def replay_agent(url: str, trace, args: argparse.Namespace,
                       count_text: Callable[[str], int], idle_factor: float) -> list[dict]:
    """The agent's turns in order, each a commit check (``on_commit``) and a model call."""
    client = AgentrtClient(url)
    rt = LookaheadRuntime(client, strategy(args, count_text),
                          session_id=f"{NAME}-{trace.agent_id}",
                          count_tokens=input_tokens(count_text))
    messages, turns = history_at(trace, 0), []
    try:
        for k in range(len(trace.steps)):
            start, before = time.perf_counter(), len(rt.records)
            messages = await rt.on_commit(messages)
            reply = await rt.chat(messages, max_tokens=args.gen_tokens, temperature=0.0,
                                  ignore_eos=True)
            # read after the call: chat() settles the commit (a refused swap: a fallback)
            record = rt.records[before] if len(rt.records) > before else None
            turns.append(client_turn(trace.agent_id, k, reply, record))
            if k + 1 < len(trace.steps):
                await next_step(rt, messages, trace, k,
                                idle_factor * (time.perf_counter() - start))
    finally:
        await rt.close()
        await client.close()
    return turns


def replay_agents(url: str, traces, args: argparse.Namespace, idle_factor: float) -> list[dict]:
    """Every agent, one after the other (a turn's TTFT is its own prefill)."""
    count_text = model_counter(args.model_path)

    async def run() -> list[dict]:
        return [t for trace in traces
                for t in await replay_agent(url, trace, args, count_text, idle_factor)]
    return asyncio.run(run())
