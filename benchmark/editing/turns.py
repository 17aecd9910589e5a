"""One replayed turn through the official ``openai`` SDK, and how turns are classified.

``send_turn`` streams a chat completion (so TTFT is the first chunk's arrival, measured from
just before the call), with ``context_management`` and ``session_id`` in ``extra_body`` only,
and reads: TTFT, prompt and cached tokens (the final usage chunk), and the edit report from the
``x-agentrt-context-management`` response header (a stream carries it in the header only),
with the server-side lookahead's ``prepared`` / ``prepared_tokens`` / ``fallback`` on a
trigger turn.

Kinds (``classify``): the first turn of an agent is ``cold``; a turn whose edit report differs
from the agent's previous turn and is not empty is an ``edit`` turn (an edit fired anew and
rewrote the prompt's prefix); every other turn is ``ordinary`` (sticky edits included: its
prompt extends the previous one).
"""
import json
import time
from typing import Optional

import openai

HEADER = "x-agentrt-context-management"


def send_turn(client: openai.OpenAI, messages: list[dict], session_id: str,
              context_management: Optional[dict], gen_tokens: int) -> dict:
    """One streamed request; ``{ttft_ms, prompt, cached, applied_edits}``."""
    extra = {"session_id": session_id, "ignore_eos": True}
    if context_management is not None:
        extra["context_management"] = context_management
    start = time.perf_counter()
    raw = client.chat.completions.with_raw_response.create(
        model="default", messages=messages, max_tokens=gen_tokens, temperature=0, stream=True,
        stream_options={"include_usage": True}, extra_body=extra)
    report = json.loads(raw.headers.get(HEADER) or '{"applied_edits": []}')
    ttft_s, usage = None, None
    for chunk in raw.parse():
        if ttft_s is None and chunk.choices:
            ttft_s = time.perf_counter() - start
        usage = chunk.usage or usage
    if usage is None or ttft_s is None:
        raise RuntimeError("the stream ended without a token or without usage")
    details = usage.prompt_tokens_details
    turn = {"ttft_ms": round(ttft_s * 1e3, 1), "prompt": usage.prompt_tokens,
            "cached": (details.cached_tokens or 0) if details else 0,
            "applied_edits": report.get("applied_edits", []), "error": report.get("error")}
    for key in ("prepared", "prepared_tokens", "fallback"):   # server-side lookahead
        if key in report:
            turn[key] = report[key]
    return turn


def classify(turns: list[dict]) -> list[dict]:
    """``turns`` (one agent, in order) with ``kind`` set: cold, edit or ordinary."""
    previous = None
    for i, turn in enumerate(turns):
        edits = turn["applied_edits"]
        if i == 0:
            turn["kind"] = "cold"
        elif edits and edits != previous:
            turn["kind"] = "edit"
        else:
            turn["kind"] = "ordinary"
        previous = edits
    return turns
