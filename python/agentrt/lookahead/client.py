"""Async HTTP client for an agentrt server: chat, tokenization and the lookahead API.

Every call raises ``ServerError`` (status, message) on an HTTP error and ``ServerUnavailable``
when the server cannot be reached, so the runtime can fall back instead of failing the agent.
"""
from typing import Any, Optional

import httpx

from agentrt.client.sse import ChatResult, ChatStream, chat_body


class ServerError(RuntimeError):
    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class ServerUnavailable(RuntimeError):
    pass


class AgentrtClient:
    def __init__(self, base_url: str, timeout_s: float = 600.0):
        self.base_url = base_url.rstrip("/")
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout_s)

    async def close(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, body: Optional[dict] = None) -> Any:
        try:
            resp = await self.http.request(method, path, json=body)
        except httpx.TransportError as exc:
            raise ServerUnavailable(f"{self.base_url}{path}: {exc}") from exc
        if resp.status_code >= 400:
            try:
                message = resp.json().get("error") or resp.text
            except ValueError:
                message = resp.text
            raise ServerError(resp.status_code, str(message))
        return resp.json()

    # --- tokens -----------------------------------------------------------------------------
    async def tokenize(self, messages: list[dict], add_generation_prompt: bool = False) -> list[int]:
        out = await self._call("POST", "/agentrt/tokenize", {
            "messages": messages, "add_generation_prompt": add_generation_prompt})
        return out["tokens"]

    # --- lookahead API ------------------------------------------------------------------------
    async def open_session(self, session_id: str, tokens: Optional[list[int]] = None) -> dict:
        return await self._call("POST", "/agentrt/sessions",
                                {"session_id": session_id, "tokens": tokens})

    async def close_session(self, session_id: str) -> dict:
        return await self._call("DELETE", f"/agentrt/sessions/{session_id}")

    async def session(self, session_id: str) -> dict:
        return await self._call("GET", f"/agentrt/sessions/{session_id}")

    async def prepare(self, session_id: str, tokens: list[int], strategy: str, version: int,
                      source_signature: str, wait: bool = True, promote: bool = False) -> dict:
        """``promote``: a commit is due soon: the branch's prefill goes first at once."""
        return await self._call("POST", f"/agentrt/sessions/{session_id}/prepare", {
            "tokens": tokens, "strategy": strategy, "version": version,
            "source_signature": source_signature, "wait": wait, "promote": promote})

    async def append(self, session_id: str, branch_id: str, tokens: list[int],
                     wait: bool = True) -> dict:
        return await self._call("POST", f"/agentrt/sessions/{session_id}/branches/{branch_id}"
                                "/append", {"tokens": tokens, "wait": wait})

    async def commit(self, session_id: str, branch_id: str) -> dict:
        return await self._call("POST",
                                f"/agentrt/sessions/{session_id}/branches/{branch_id}/commit")

    async def abandon(self, session_id: str, branch_id: str, reason: str) -> dict:
        return await self._call("POST",
                                f"/agentrt/sessions/{session_id}/branches/{branch_id}/abandon",
                                {"reason": reason})

    async def mark_stale(self, session_id: str, branch_id: str, reason: str) -> dict:
        return await self._call("POST",
                                f"/agentrt/sessions/{session_id}/branches/{branch_id}/stale",
                                {"reason": reason})

    async def promote(self, session_id: str) -> dict:
        return await self._call("POST", f"/agentrt/sessions/{session_id}/promote")

    # --- model calls ----------------------------------------------------------------------------
    async def chat(self, messages: list[dict], *, max_tokens: int = 64,
                   session_id: Optional[str] = None, extra: Optional[dict] = None,
                   **sampling) -> ChatResult:
        """Streaming chat completion; TTFT measured here, usage from the last chunk (sse.py)."""
        body = chat_body(messages, max_tokens, **{**sampling, **(extra or {})})
        if session_id:
            body["session_id"] = session_id
        stream = ChatStream()
        try:
            async with self.http.stream("POST", "/v1/chat/completions", json=body) as resp:
                if resp.status_code >= 400:
                    raise ServerError(resp.status_code, (await resp.aread()).decode()[:500])
                async for line in resp.aiter_lines():
                    if stream.feed(line):
                        break
        except httpx.TransportError as exc:
            raise ServerUnavailable(str(exc)) from exc
        return stream.result()

    def llm_call(self, **sampling):
        """An LLMCall for strategies (summaries): a best-effort background request."""
        async def call(messages: list[dict], max_tokens: int) -> str:
            result = await self.chat(messages, max_tokens=max_tokens, temperature=0.0,
                                     extra={"request_class": "bg", "is_lookahead": True},
                                     **sampling)
            return result.text
        return call
