"""Async HTTP client for an agentrt server: chat, tokenization and the lookahead API.

Every call raises ``ServerError`` (status, message) on an HTTP error and ``ServerUnavailable``
when the server cannot be reached, so the runtime can fall back instead of failing the agent.

Behind SGLang's router (``agentrt cluster``; the base URL answers 404 on ``/agentrt/info``) the
client keeps each session on one worker (cluster/routing.py): model calls go through the router
with the session as routing key, and the worker a response names is the session's home; control
calls (``/agentrt/*``, which the router does not proxy) go to the home directly. A session without
a home yet gets one from a one-token probe through the router. A session that moved (its worker
vanished) is reopened on its new home: a cache miss there, never an error.
"""
from typing import Any, Optional

import httpx

from agentrt.client.sse import ChatResult, ChatStream, chat_body
from agentrt.cluster.routing import HomeBook, routed_worker, routing_headers

ANY_SESSION = "agentrt-any"   # the routing key of calls that belong to no session (tokenize)


class ServerError(RuntimeError):
    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class ServerUnavailable(RuntimeError):
    pass


def unreachable(where: str, exc: Exception) -> ServerUnavailable:
    """A transport failure at ``where``, named by its kind: several of httpx's carry no message
    (a connection the server closed under a pooled request reads as a bare ``ReadError``)."""
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return ServerUnavailable(f"{where}: {detail}")


class AgentrtClient:
    def __init__(self, base_url: str, timeout_s: float = 600.0):
        self.base_url = base_url.rstrip("/")
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout_s)
        self.homes = HomeBook()
        self._routed: Optional[bool] = None   # is base_url a router? (learned on first use)
        self._model: Optional[str] = None     # the served model id (a router routes by it)

    async def close(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, body: Optional[dict] = None,
                    session_id: Optional[str] = None) -> Any:
        """A control call, to the session's home worker when behind a router."""
        url = await self._control_url(session_id or ANY_SESSION) + path
        try:
            resp = await self.http.request(method, url, json=body)
        except httpx.TransportError as exc:
            raise unreachable(url, exc) from exc
        if resp.status_code >= 400:
            try:
                message = resp.json().get("error") or resp.text
            except ValueError:
                message = resp.text
            raise ServerError(resp.status_code, str(message))
        return resp.json()

    # --- where a session lives ------------------------------------------------------------------
    async def routed(self) -> bool:
        """Whether base_url is SGLang's router (it answers 404 on every /agentrt/* path)."""
        if self._routed is None:
            try:
                resp = await self.http.get("/agentrt/info")
            except httpx.TransportError as exc:
                raise unreachable(self.base_url, exc) from exc
            self._routed = resp.status_code == 404
        return self._routed

    async def model_id(self) -> str:
        """The served model's id, from /v1/models (the router finds workers by it)."""
        if self._model is None:
            try:
                resp = await self.http.get("/v1/models")
                self._model = resp.json()["data"][0]["id"]
            except (httpx.TransportError, ValueError, KeyError, IndexError) as exc:
                raise unreachable(f"{self.base_url}/v1/models", exc) from exc
        return self._model

    async def _control_url(self, session_id: str) -> str:
        if not await self.routed():
            return self.base_url
        home = self.homes.home(session_id)
        return home if home is not None else await self._probe_home(session_id)

    async def _probe_home(self, session_id: str) -> str:
        """Let the router place the session (a one-token request with its key)."""
        try:
            resp = await self.http.post("/generate", headers=routing_headers(session_id), json={
                "input_ids": [0], "sampling_params": {"max_new_tokens": 1}})
        except httpx.TransportError as exc:
            raise unreachable(self.base_url, exc) from exc
        home = routed_worker(resp.headers)
        if resp.status_code >= 400 or home is None:
            raise ServerError(resp.status_code, f"the router placed no worker for {session_id}")
        self.homes.observe(session_id, home)
        return home

    async def _arrived(self, session_id: Optional[str], headers) -> None:
        """A model call of the session answered: note its worker; reopen a moved session."""
        if session_id and self.homes.observe(session_id, routed_worker(headers)) is not None:
            try:
                await self.open_session(session_id)
            except ServerError as exc:
                if exc.status != 409:
                    raise

    # --- tokens -----------------------------------------------------------------------------
    async def tokenize(self, messages: list[dict], add_generation_prompt: bool = False,
                       session_id: Optional[str] = None) -> list[int]:
        out = await self._call("POST", "/agentrt/tokenize", {
            "messages": messages, "add_generation_prompt": add_generation_prompt}, session_id)
        return out["tokens"]

    # --- lookahead API ------------------------------------------------------------------------
    async def open_session(self, session_id: str, tokens: Optional[list[int]] = None) -> dict:
        return await self._call("POST", "/agentrt/sessions",
                                {"session_id": session_id, "tokens": tokens}, session_id)

    async def close_session(self, session_id: str) -> dict:
        return await self._call("DELETE", f"/agentrt/sessions/{session_id}", None, session_id)

    async def session(self, session_id: str) -> dict:
        return await self._call("GET", f"/agentrt/sessions/{session_id}", None, session_id)

    def context_body(self, messages: list[dict]) -> dict:
        """How a branch's context travels: as messages, which the server tokenizes with its
        served chat template (token ids never cross to the client and back)."""
        return {"messages": messages}

    async def prepare(self, session_id: str, messages: list[dict], strategy: str, version: int,
                      source_signature: str, wait: bool = True, promote: bool = False,
                      window_s: Optional[float] = None,
                      later_window_s: Optional[float] = None,
                      commit_tokens: Optional[int] = None) -> dict:
        """Register and prefill a branch of ``messages``; with ``wait`` the answer says what
        became of it (``outcome``). ``promote``: a commit is due soon: the branch's prefill goes
        first at once. ``window_s``: the idle time expected before the commit; the server
        defers a preparation that would not fit it (``outcome: deferred``, nothing spent), or
        that would still fit ``later_window_s``, the same from the agent's next boundary, or
        whose job is likely to end before its context reaches ``commit_tokens`` (the size its
        commit comes at: job_length.py)."""
        body = dict(self.context_body(messages), strategy=strategy, version=version,
                    source_signature=source_signature, wait=wait, promote=promote)
        if window_s is not None:
            body["window_s"] = window_s
        if later_window_s is not None:
            body["later_window_s"] = later_window_s
        if commit_tokens is not None:
            body["commit_tokens"] = commit_tokens
        return await self._call("POST", f"/agentrt/sessions/{session_id}/prepare", body,
                                session_id)

    async def append(self, session_id: str, branch_id: str, messages: list[dict],
                     wait: bool = True, promote: bool = False) -> dict:
        """Catch the branch up to ``messages`` (its whole new context: it must extend it).
        ``promote``: the commit is due soon: the catch-up goes first at once (what it does not
        prefill, the commit request would)."""
        return await self._call("POST", f"/agentrt/sessions/{session_id}/branches/{branch_id}"
                                "/append", dict(self.context_body(messages), wait=wait,
                                                promote=promote), session_id)

    async def wait_branch(self, session_id: str, branch_id: str) -> dict:
        """Answered when the branch's prefill ended (``outcome`` as a waited prepare's)."""
        return await self._call("POST", f"/agentrt/sessions/{session_id}/branches/{branch_id}"
                                "/wait", None, session_id)

    async def withdraw(self, session_id: str, strategy: str, version: int,
                       reason: str) -> dict:
        """The commit came before the answer to the prepare of ``strategy`` ``version``: it
        never registers, or its branch is abandoned (what landed stays as cache)."""
        return await self._call("POST", f"/agentrt/sessions/{session_id}/withdraw",
                                {"strategy": strategy, "version": version, "reason": reason},
                                session_id)

    async def commit(self, session_id: str, branch_id: str) -> dict:
        return await self._call("POST",
                                f"/agentrt/sessions/{session_id}/branches/{branch_id}/commit",
                                None, session_id)

    async def abandon(self, session_id: str, branch_id: str, reason: str) -> dict:
        return await self._call("POST",
                                f"/agentrt/sessions/{session_id}/branches/{branch_id}/abandon",
                                {"reason": reason}, session_id)

    async def mark_stale(self, session_id: str, branch_id: str, reason: str) -> dict:
        return await self._call("POST",
                                f"/agentrt/sessions/{session_id}/branches/{branch_id}/stale",
                                {"reason": reason}, session_id)

    async def promote(self, session_id: str) -> dict:
        return await self._call("POST", f"/agentrt/sessions/{session_id}/promote", None,
                                session_id)

    # --- model calls ----------------------------------------------------------------------------
    async def chat(self, messages: list[dict], *, max_tokens: int = 64,
                   session_id: Optional[str] = None, extra: Optional[dict] = None,
                   **sampling) -> ChatResult:
        """Streaming chat completion; TTFT measured here, usage from the last chunk (sse.py)."""
        body = chat_body(messages, max_tokens, **{**sampling, **(extra or {})})
        if await self.routed():
            body["model"] = await self.model_id()
        if session_id:
            body["session_id"] = session_id
        stream = ChatStream()
        headers = routing_headers(session_id) if session_id else None
        try:
            async with self.http.stream("POST", "/v1/chat/completions", json=body,
                                        headers=headers) as resp:
                await self._arrived(session_id, resp.headers)
                if resp.status_code >= 400:
                    raise ServerError(resp.status_code, (await resp.aread()).decode()[:500])
                async for line in resp.aiter_lines():
                    if stream.feed(line):
                        break
        except httpx.TransportError as exc:
            raise unreachable(f"{self.base_url}/v1/chat/completions", exc) from exc
        return stream.result()

    def llm_call(self, **sampling):
        """An LLMCall for strategies (summaries): a best-effort background request."""
        async def call(messages: list[dict], max_tokens: int) -> str:
            result = await self.chat(messages, max_tokens=max_tokens, temperature=0.0,
                                     extra={"request_class": "bg", "is_lookahead": True},
                                     **sampling)
            return result.text
        return call
