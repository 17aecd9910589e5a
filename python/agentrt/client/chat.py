"""A small blocking client for streamed /v1/chat/completions that measures time to first token.

TTFT is measured on the client, from sending the request to the first streamed content chunk
(the stream is parsed by sse.py, shared with the async client).
"""
import requests

from agentrt.client.sse import ChatResult, ChatStream, chat_body

__all__ = ["ChatError", "ChatResult", "chat_stream"]


class ChatError(RuntimeError):
    """The server refused or broke the request; the message carries its answer."""


def chat_stream(base_url: str, messages: list[dict], *, max_tokens: int = 64,
                timeout_s: float = 600.0, **sampling) -> ChatResult:
    stream = ChatStream()
    with requests.post(f"{base_url}/v1/chat/completions", json=chat_body(messages, max_tokens,
                                                                          **sampling),
                       stream=True, timeout=timeout_s) as resp:
        if resp.status_code != 200:
            raise ChatError(f"HTTP {resp.status_code}: {resp.text[:500]}")
        for line in resp.iter_lines(decode_unicode=True):
            done = stream.feed(line)
            if stream.error is not None:
                raise ChatError(str(stream.error))
            if done:
                break
    return stream.result()
