"""A small streaming client for /v1/chat/completions that measures time to first token.

TTFT is measured on the client, from sending the request to the first streamed content chunk;
the usage block (prompt, cached and completion tokens) arrives with the last chunk because the
request asks for ``stream_options.include_usage``.
"""
import json
import time
from typing import NamedTuple

import requests


class ChatError(RuntimeError):
    """The server refused or broke the request; the message carries its answer."""


class ChatResult(NamedTuple):
    text: str
    ttft_s: float
    total_s: float
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    finish_reason: str | None
    gaps_s: tuple = ()          # time between streamed content chunks (time between tokens)


def chat_stream(base_url: str, messages: list[dict], *, max_tokens: int = 64,
                timeout_s: float = 600.0, **sampling) -> ChatResult:
    body = {"model": "default", "messages": messages, "max_tokens": max_tokens, "stream": True,
            "stream_options": {"include_usage": True}, **sampling}
    start = time.perf_counter()
    first = None
    pieces: list[str] = []
    usage: dict = {}
    finish = None
    with requests.post(f"{base_url}/v1/chat/completions", json=body, stream=True,
                       timeout=timeout_s) as resp:
        if resp.status_code != 200:
            raise ChatError(f"HTTP {resp.status_code}: {resp.text[:500]}")
        for line in resp.iter_lines(decode_unicode=True):
            if not line or not line.startswith("data: "):
                continue
            payload = line[len("data: "):]
            if payload == "[DONE]":
                break
            chunk = json.loads(payload)
            if "error" in chunk:
                raise ChatError(str(chunk["error"]))
            for choice in chunk.get("choices") or []:
                delta = (choice.get("delta") or {}).get("content")
                if delta:
                    if first is None:
                        first = time.perf_counter()
                    pieces.append(delta)
                finish = choice.get("finish_reason") or finish
            if chunk.get("usage"):
                usage = chunk["usage"]
    end = time.perf_counter()
    details = usage.get("prompt_tokens_details") or {}
    return ChatResult(
        text="".join(pieces),
        ttft_s=(first or end) - start,
        total_s=end - start,
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
        cached_tokens=int(details.get("cached_tokens", 0) or 0),
        completion_tokens=int(usage.get("completion_tokens", 0)),
        finish_reason=finish,
    )
