"""The regime replay's ``server_edit`` agents: ``openai`` SDK clients of server-side editing.

Such an agent runs no agentrt code. It is an ordinary OpenAI-SDK client
(``openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="none")``, streamed chat completions) whose
only agentrt-specific part is ``extra_body``: ``session_id``, ``context_management`` (and
``ignore_eos``, so every system decodes the same ``--gen-tokens`` tokens). Rules:

- Every turn sends the agent's full, unedited history (``editing/history.py``: each earlier trace
  step as an assistant message with one tool call and its ``tool`` result); the step's tool time
  (``step.tool_s``) passes between its assistant message and its tool result; the agent ends at
  its last reply, as in ``run.Replay.agent``.
- The edit: ``clear_tool_uses_20250919``, keep 2 tool uses, no ``clear_at_least``; ``lookahead:
  {"fraction": soft / hard}`` (the runtime's soft threshold over its hard one: the server starts
  preparing where agentrt's runtime would) or ``lookahead: false`` (``server_edit_sync``).
- Its trigger is agentrt's hard threshold (``ContextBudget.hard_tokens``) in the server's unit
  (``agent_trigger``): the runtime counts the chat-template tokens of ``Replay.agent``'s
  messages, the server each message's text (``agentrt.editing.work.message_text``), so the trigger
  is the hard threshold less the two counts' difference at the turn the runtime first commits,
  less one (the server fires when its count exceeds the trigger, the runtime when its count
  reaches the threshold): the edit first fires at that turn. Later edits fire when the edited
  context grows past the trigger again.
- A turn is a commit turn when its edit report shows an edit fired anew (non-empty and unlike
  the previous turn's, as ``editing/turns.classify``); its outcome is ``prepared`` or
  ``fallback`` from the report (None for a synchronous edit), its TTFT the streamed one (the
  first content chunk). Turns are recorded in ``Replay.agent``'s shape.
"""
import asyncio
import functools
import json
import time
from typing import Callable, Optional

import openai

from agentrt.editing.work import message_text
from benchmark.editing.history import history_at
from benchmark.editing.replay import clear_tool_uses
from benchmark.editing.turns import HEADER

KEEP_TOOL_USES = 2


def context_management(trigger: int, fraction: Optional[float]) -> dict:
    """The ``context_management`` field: ``clear_tool_uses`` at ``trigger`` input tokens, keep
    ``KEEP_TOOL_USES``; ``fraction`` None: ``lookahead: false`` (the synchronous edit)."""
    return clear_tool_uses(trigger, KEEP_TOOL_USES, 0, fraction)


def runtime_messages(trace, k: int) -> list[dict]:
    """What ``Replay.agent`` sends at turn ``k`` before any commit: the same steps as
    ``history_at`` without tool calls (what agentrt's runtime counts)."""
    messages = [{"role": "system", "content": trace.system},
                {"role": "user", "content": trace.task}]
    for step in trace.steps[:k]:
        messages += [{"role": "assistant", "content": step.assistant},
                     {"role": "tool", "content": step.tool_output}]
    return messages


def input_count(messages: list[dict], count_text: Callable[[str], int]) -> int:
    """The server edit's input tokens: each message's text leaves joined by newlines."""
    return sum(count_text(message_text(m)) for m in messages)


def server_trigger(hard_tokens: int, template_tokens: int, input_tokens: int) -> int:
    """The hard threshold in the server's unit at a turn the runtime counts ``template_tokens``
    and the server ``input_tokens``, less one (the server needs its count to exceed it)."""
    return hard_tokens - (template_tokens - input_tokens) - 1


async def agent_trigger(trace, hard_tokens: int, count_template,
                        count_text: Callable[[str], int]) -> int:
    """The agent's trigger: ``server_trigger`` at the first turn whose runtime count reaches
    ``hard_tokens`` (no such turn: at the last one, where the edit then does not fire).
    ``count_template``: async, messages -> chat-template tokens (``run.message_counter``)."""
    count_text = functools.lru_cache(maxsize=4096)(count_text)
    last = len(trace.steps) - 1
    for k in range(len(trace.steps)):
        template = await count_template(runtime_messages(trace, k))
        if template >= hard_tokens or k == last:
            server = await asyncio.to_thread(input_count, history_at(trace, k), count_text)
            return server_trigger(hard_tokens, template, server)
    raise ValueError("a trace without steps")


def fired_anew(edits: list, previous: Optional[list]) -> bool:
    """A commit turn: the report's edits are non-empty and differ from the previous turn's."""
    return bool(edits) and edits != previous


def outcome_of(report: dict, commit: bool) -> Optional[str]:
    """``prepared`` / ``fallback`` for a commit turn the server's lookahead served or could not
    (its report's ``prepared``); None otherwise (an ordinary turn, a synchronous edit)."""
    if not commit or "prepared" not in report:
        return None
    return "prepared" if report["prepared"] else "fallback"


async def stream_turn(client: openai.AsyncOpenAI, messages: list[dict], extra: dict,
                      gen_tokens: int) -> dict:
    """One streamed chat completion: ``ttft_s`` (first content chunk), ``gaps_s`` (between
    content chunks), ``prompt`` / ``cached`` tokens (the usage chunk) and the edit ``report``
    (the ``x-agentrt-context-management`` header: a stream carries it there only)."""
    start = time.perf_counter()
    raw = await client.chat.completions.with_raw_response.create(
        model="default", messages=messages, max_tokens=gen_tokens, temperature=0, stream=True,
        stream_options={"include_usage": True}, extra_body=extra)
    report = json.loads(raw.headers.get(HEADER) or '{"applied_edits": []}')
    first = last = usage = None
    gaps = []
    async for chunk in raw.parse():        # with_raw_response: parse() is not awaited
        if any(c.delta and c.delta.content for c in chunk.choices):
            now = time.perf_counter()
            if last is not None:
                gaps.append(now - last)
            first, last = first or now, now
        usage = chunk.usage or usage
    if first is None or usage is None:
        raise RuntimeError("the stream ended without a token or without usage")
    details = usage.prompt_tokens_details
    return {"ttft_s": first - start, "gaps_s": gaps, "prompt": usage.prompt_tokens,
            "cached": (details.cached_tokens or 0) if details else 0, "report": report}


async def run_agent(url: str, trace, cm: dict, gen_tokens: int,
                    on_turn: Callable[[dict], None]) -> float:
    """The agent's turns in order (``on_turn`` gets each, in ``Replay.agent``'s shape); its
    job completion time in seconds."""
    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="none", timeout=600,
                                max_retries=0)
    extra = {"session_id": trace.agent_id, "context_management": cm, "ignore_eos": True}
    previous = None
    start = time.perf_counter()
    try:
        for k, step in enumerate(trace.steps):
            turn = await stream_turn(client, history_at(trace, k), extra, gen_tokens)
            edits = turn["report"].get("applied_edits", [])
            commit = fired_anew(edits, previous)
            previous = edits
            on_turn({"agent": trace.agent_id, "step": k, "commit": commit,
                     "outcome": outcome_of(turn["report"], commit), "ttft_s": turn["ttft_s"],
                     "gaps_s": turn["gaps_s"], "prompt": turn["prompt"],
                     "cached": turn["cached"], "reason": turn["report"].get("fallback")})
            if k < len(trace.steps) - 1:
                await asyncio.sleep(step.tool_s)
    finally:
        await client.close()
    return time.perf_counter() - start
