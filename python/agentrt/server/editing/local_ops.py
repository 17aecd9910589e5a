"""LocalOps: the lookahead API of this server, called in-process (no HTTP round trip).

The same operations as the ``/agentrt/sessions`` routes (http/sessions.py), through the same
SessionApi (control channel to the scheduler's tree + background prefill requests tagged with the
branch), with the method names and errors of the client's ``AgentrtClient`` (ServerError with the
HTTP status the route would answer; ServerUnavailable when the scheduler does not answer), so the
client-side ``Preparer`` drives a server-side preparation unchanged. Token ids are those
``/agentrt/tokenize`` gives (the served chat template, no generation prompt).
"""
import asyncio
from typing import Optional

from agentrt.lookahead.client import ServerError, ServerUnavailable
from agentrt.server.http import fields as rf
from agentrt.server.control.client import ControlError
from agentrt.server.http.sessions import SessionApi, encode


class LocalOps:
    def __init__(self, api: SessionApi):
        self.api = api

    async def _call(self, op: str, **args) -> dict:
        try:
            return await self.api.control.call(op, **args)
        except ControlError as exc:
            if exc.status == 504:
                raise ServerUnavailable(str(exc)) from exc
            raise ServerError(exc.status, str(exc)) from exc

    async def tokenize(self, messages: list[dict], add_generation_prompt: bool = False,
                       session_id: Optional[str] = None) -> list[int]:
        try:
            return await asyncio.to_thread(encode, self.api.tm.tokenizer, messages, None,
                                           add_generation_prompt)
        except rf.FieldError as exc:
            raise ServerError(400, str(exc)) from exc

    async def open_session(self, session_id: str, tokens: Optional[list[int]] = None) -> dict:
        return await self._call("open_session", session_id=session_id, tokens=tokens)

    async def close_session(self, session_id: str) -> dict:
        return await self._call("close_session", session_id=session_id)

    async def prepare(self, session_id: str, tokens: list[int], strategy: str, version: int,
                      source_signature: str, wait: bool = True, promote: bool = False) -> dict:
        branch = await self._call("prepare", session_id=session_id, tokens=tokens,
                                  strategy=strategy, version=version,
                                  source_signature=source_signature, promote=promote)
        return await self._prefill(session_id, branch, wait)

    async def append(self, session_id: str, branch_id: str, tokens: list[int],
                     wait: bool = True) -> dict:
        branch = await self._call("append", session_id=session_id, branch_id=branch_id,
                                  tokens=tokens, max_tokens=self.api.limits().max_tokens)
        return await self._prefill(session_id, branch, wait)

    async def _prefill(self, session_id: str, branch: dict, wait: bool) -> dict:
        try:
            return await self.api.start_prefill(session_id, branch, wait)
        except ControlError as exc:
            raise ServerError(exc.status, str(exc)) from exc

    async def commit(self, session_id: str, branch_id: str) -> dict:
        """The pointer swap; a catch-up of the branch still prefilling is aborted (the commit
        request carries those tokens), as the commit route does."""
        committed = await self._call("commit", session_id=session_id, branch_id=branch_id)
        committed["catch_up_aborted"] = self.api.overtaken(branch_id)
        return committed

    async def abandon(self, session_id: str, branch_id: str, reason: str) -> dict:
        return await self._call("abandon", session_id=session_id, branch_id=branch_id,
                                reason=reason)

    async def mark_stale(self, session_id: str, branch_id: str, reason: str) -> dict:
        return await self._call("stale", session_id=session_id, branch_id=branch_id,
                                reason=reason)

    async def promote(self, session_id: str) -> dict:
        return await self._call("promote", session_id=session_id)
