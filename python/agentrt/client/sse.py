"""The one parser of a streamed ``/v1/chat/completions`` answer (server-sent events).

Feed it the body's lines as they arrive; it times the first content chunk (TTFT) and the gaps
between content chunks, joins the text and keeps the usage block (prompt, cached and completion
tokens), which arrives with the last chunk when the request asks for
``stream_options.include_usage``. Pure: no HTTP library, so the blocking client (chat.py) and
the async one (lookahead/client.py) share it.
"""
import json
import time
from typing import NamedTuple, Optional


class ChatResult(NamedTuple):
    text: str
    ttft_s: float
    total_s: float
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    finish_reason: str | None
    gaps_s: tuple = ()          # time between streamed content chunks (time between tokens)


def chat_body(messages: list[dict], max_tokens: int, **fields) -> dict:
    """A streaming request body that asks for the usage block."""
    return {"model": "default", "messages": messages, "max_tokens": max_tokens, "stream": True,
            "stream_options": {"include_usage": True}, **fields}


class ChatStream:
    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.started = clock()
        self.first: Optional[float] = None
        self.last: Optional[float] = None
        self.pieces: list[str] = []
        self.gaps: list[float] = []
        self.usage: dict = {}
        self.finish: Optional[str] = None
        self.error = None               # the server's ``error`` object, when a chunk carried one

    def feed(self, line: str) -> bool:
        """One line of the body; True once the stream is over (``data: [DONE]``)."""
        if not line or not line.startswith("data: "):
            return False
        payload = line[len("data: "):]
        if payload == "[DONE]":
            return True
        chunk = json.loads(payload)
        if "error" in chunk:
            self.error = chunk["error"]
        for choice in chunk.get("choices") or []:
            delta = (choice.get("delta") or {}).get("content")
            if delta:
                now = self.clock()
                self.first = self.first or now
                if self.last is not None:
                    self.gaps.append(now - self.last)
                self.last = now
                self.pieces.append(delta)
            self.finish = choice.get("finish_reason") or self.finish
        self.usage = chunk.get("usage") or self.usage
        return False

    def result(self) -> ChatResult:
        end = self.clock()
        details = self.usage.get("prompt_tokens_details") or {}
        return ChatResult("".join(self.pieces), (self.first or end) - self.started,
                          end - self.started, int(self.usage.get("prompt_tokens", 0)),
                          int(details.get("cached_tokens", 0) or 0),
                          int(self.usage.get("completion_tokens", 0)), self.finish,
                          tuple(self.gaps))
