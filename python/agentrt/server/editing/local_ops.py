"""LocalOps: the lookahead API of this server, called in-process (no HTTP round trip).

The same operations as the ``/agentrt/sessions`` routes (http/sessions.py), through the same
SessionApi (validation, one control call to the scheduler's tree), with the method names and
errors of the client's ``AgentrtClient`` (ServerError with the HTTP status the route would
answer; ServerUnavailable when the scheduler does not answer), so the client-side ``Preparer``
drives a server-side preparation unchanged, through ``served.ConversationOps``: it tokenizes a
conversation's branches as the conversation's requests are served.
"""
import asyncio
from typing import Optional

from agentrt.lookahead.client import ServerError, ServerUnavailable
from agentrt.server.http import fields as rf
from agentrt.server.control.client import ControlError
from agentrt.server.http.sessions import SessionApi
from agentrt.server.http.tokens import encode


class LocalOps:
    def __init__(self, api: SessionApi):
        self.api = api

    async def _call(self, op: str, **args) -> dict:
        return await self._answer(self.api.control.call(op, **args))

    @staticmethod
    async def _answer(call) -> dict:
        """The call's answer; errors as the client would see them from the routes."""
        try:
            return await call
        except rf.FieldError as exc:
            raise ServerError(exc.status, str(exc)) from exc
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
                      source_signature: str, wait: bool = True, promote: bool = False,
                      window_s: Optional[float] = None,
                      later_window_s: Optional[float] = None,
                      commit_tokens: Optional[int] = None) -> dict:
        """A branch of these token ids (tokenized by the caller as its requests are served)."""
        body = dict(tokens=tokens, strategy=strategy, version=version,
                    source_signature=source_signature, wait=wait, promote=promote)
        if window_s is not None:
            body["window_s"] = window_s
        if later_window_s is not None:
            body["later_window_s"] = later_window_s
        if commit_tokens is not None:
            body["commit_tokens"] = commit_tokens
        return await self._answer(self.api.prepare(session_id, body))

    async def append(self, session_id: str, branch_id: str, context: list[int],
                     wait: bool = True, promote: bool = False) -> dict:
        """Catch the branch up to ``context`` (its whole new token ids; must extend it)."""
        return await self._answer(self.api.call(
            "append", wait, session_id=session_id, branch_id=branch_id, context=context,
            max_tokens=self.api.limits().max_tokens, promote=promote))

    async def wait_branch(self, session_id: str, branch_id: str) -> dict:
        """Answered when the branch's prefill ended (``outcome`` as a waited prepare's)."""
        return await self._answer(self.api.call("wait", True, session_id=session_id,
                                                branch_id=branch_id))

    async def withdraw(self, session_id: str, strategy: str, version: int,
                       reason: str) -> dict:
        """The commit came before the answer to this prepare: it never registers, or its
        branch is abandoned (what landed stays as cache)."""
        return await self._call("withdraw", session_id=session_id, strategy=strategy,
                                version=version, reason=reason)

    async def commit(self, session_id: str, branch_id: str) -> dict:
        """The pointer swap; the scheduler aborts a catch-up of the branch still prefilling
        (the commit request carries those tokens)."""
        return await self._call("commit", session_id=session_id, branch_id=branch_id)

    async def abandon(self, session_id: str, branch_id: str, reason: str,
                      keep_cache: bool = False) -> dict:
        """``keep_cache``: what the branch prefilled stays in the tree as ordinary cache."""
        return await self._call("abandon", session_id=session_id, branch_id=branch_id,
                                reason=reason, keep_cache=keep_cache)

    async def mark_stale(self, session_id: str, branch_id: str, reason: str) -> dict:
        return await self._call("stale", session_id=session_id, branch_id=branch_id,
                                reason=reason)

    async def promote(self, session_id: str) -> dict:
        return await self._call("promote", session_id=session_id)

