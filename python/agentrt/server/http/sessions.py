"""HTTP API of the lookahead tree: sessions, prepared branches, commit, pins (under /agentrt/).

    POST   /agentrt/sessions                         {session_id, tokens|messages|text?}
    GET    /agentrt/sessions/{sid}                   status (branches with histories, pin)
    DELETE /agentrt/sessions/{sid}                   close: abandon branches, drop pins
    POST   /agentrt/sessions/{sid}/prepare           {tokens|messages|text, strategy, version,
                                                      source_signature?, wait?, promote?,
                                                      window_s?, later_window_s?,
                                                      commit_tokens?}
    POST   /agentrt/sessions/{sid}/withdraw          {strategy, version, reason?}  the caller
                                                      committed before a prepare's answer came
    POST   /agentrt/sessions/{sid}/branches/{bid}/append   {tokens | messages|text, wait?,
                                                             promote?}
    POST   /agentrt/sessions/{sid}/branches/{bid}/wait     answered when its prefill ended
    POST   /agentrt/sessions/{sid}/branches/{bid}/commit
    POST   /agentrt/sessions/{sid}/branches/{bid}/abandon  {reason?}
    POST   /agentrt/sessions/{sid}/branches/{bid}/stale    {reason?}  source changed: released
    POST   /agentrt/sessions/{sid}/pin               {tool?, ttl_s?}
    DELETE /agentrt/sessions/{sid}/pin               release the pin before its TTL
    POST   /agentrt/sessions/{sid}/promote           a commit waits: unfinished prefill first

Prepare and append are one control call each: this process tokenizes the body (messages with
the served chat template), the scheduler registers the branch (validation happens there,
atomically) and starts its background prefill itself (scheduling/prefills.py). The answer has
``outcome``: ``preparing`` at once, or with ``wait: true`` what became of the branch when its
prefill ended (``ready``, ``cancelled``, ``abandoned``, ...); a prepare given the caller's idle
``window_s`` (and ``later_window_s``, the same from its next boundary) may be ``deferred``
instead (capacity.py), having registered nothing; so may one given ``commit_tokens`` (the
context size its commit comes at) whose job is likely to end first (job_length.py).

A caller that must not wait a whole prefill to learn that decision prepares without ``wait``
(the answer comes at the scheduler's next loop, with the decision) and then waits on the branch
(``/wait``). A scheduler loop is one forward step, seconds on a busy CPU server: a caller whose
commit comes before the answer withdraws the prepare (``/withdraw``): it never registers, or
its branch is abandoned with what it landed kept as ordinary cache for the commit request.
"""
import asyncio
import logging

from fastapi import APIRouter, Request

from agentrt.server.http import fields as rf, schemas
from agentrt.server.control.client import ControlClient
from agentrt.server.http.guard import json_object
from agentrt.server.http.tokens import encode

logger = logging.getLogger("agentrt.routes")
MAX_NAME = 256   # strategy names, signatures, reasons


class SessionApi:
    def __init__(self, control: ControlClient, tokenizer_manager_getter,
                 max_session_tokens: int = 0, wait_timeout_s: float = 600.0):
        """``max_session_tokens``: most tokens of a context or branch (0: the model's context);
        ``wait_timeout_s``: the longest a prepare or append waits for its prefill (504 after)."""
        self.control = control
        self._tm = tokenizer_manager_getter  # SGLang sets its global state after plugins load
        self.max_session_tokens = max_session_tokens
        self.wait_timeout_s = wait_timeout_s

    @property
    def tm(self):
        return self._tm()

    def limits(self) -> rf.Limits:
        return rf.Limits(vocab_size=self.tm.model_config.vocab_size,
                         max_tokens=self.max_session_tokens or self.tm.context_len)

    async def tokens_of(self, body: dict, required: bool) -> list[int] | None:
        """The body's ``tokens``, or its ``messages`` / ``text`` tokenized with the served chat
        template (in a worker thread: a large body never blocks the event loop)."""
        limits = self.limits()
        tokens = rf.token_list(body, limits=limits)
        if tokens is not None:
            return tokens
        msgs, text = rf.messages(body), rf.field(body, "text", str, None)
        if msgs is None and text is None:
            if required:
                raise rf.FieldError("one of 'tokens', 'messages' or 'text' is required")
            return None
        tokens = await asyncio.to_thread(encode, self.tm.tokenizer, msgs, text, False)
        return rf.tokens_in_range("messages" if msgs is not None else "text", tokens, limits)

    async def call(self, op: str, wait: bool = False, **args) -> dict:
        """A control op; one that waits for a branch's prefill may take as long as the
        prefill queue (``wait_timeout_s``)."""
        timeout = self.wait_timeout_s if wait else None
        return await self.control.call(op, timeout_s=timeout, wait=wait, **args)

    async def prepare(self, session_id: str, body: dict) -> dict:
        """Validate a prepare body, tokenize it (once, here), register and prefill the branch
        in the scheduler: one control call, answered when the prefill ended with ``wait``."""
        window_s = rf.field(body, "window_s", float, None, minimum=0)
        later_window_s = rf.field(body, "later_window_s", float, None, minimum=0)
        commit_tokens = rf.field(body, "commit_tokens", int, None, minimum=0)
        args = dict(tokens=await self.tokens_of(body, required=True),
                    strategy=_name(body, "strategy"),
                    version=rf.field(body, "version", int, minimum=0),
                    source_signature=_name(body, "source_signature", ""),
                    promote=rf.field(body, "promote", bool, False), window_s=window_s,
                    later_window_s=later_window_s, commit_tokens=commit_tokens)
        return await self.call("prepare", rf.field(body, "wait", bool, False),
                               session_id=session_id, **args)

    async def append(self, session_id: str, branch_id: str, body: dict) -> dict:
        """Catch-up: ``tokens`` to append, or ``messages`` / ``text``: the branch's whole new
        context (tokenized here; the scheduler checks that it extends the branch)."""
        wait = rf.field(body, "wait", bool, False)
        promote = rf.field(body, "promote", bool, False)
        whole = "tokens" not in body
        tokens = await self.tokens_of(body, required=True)
        return await self.call("append", wait, session_id=session_id, branch_id=branch_id,
                               **{"context" if whole else "tokens": tokens},
                               max_tokens=self.limits().max_tokens, promote=promote)


def _name(body: dict, key: str, default=rf.REQUIRED) -> str:
    """A short name (strategy, signature, reason, tool): at most MAX_NAME characters, and not
    empty when given."""
    value = rf.field(body, key, str, default)
    if value is not default and not 0 < len(value) <= MAX_NAME:
        raise rf.FieldError(f"field '{key}' must be 1-{MAX_NAME} characters")
    return value


def build_router(api: SessionApi) -> APIRouter:
    """Each route validates its path ids and its whole body first, then acts: a refused
    request changes nothing. FieldError and ControlError become JSON errors (``errors.py``)."""
    router = APIRouter(prefix="/agentrt/sessions", tags=["agentrt"])
    _session_routes(router, api)
    _branch_routes(router, api)
    return router


def _session_routes(router: APIRouter, api: SessionApi) -> None:
    """Open, read, close a session; pin and unpin its context; promote its preparations."""
    ids = rf.identifier

    @router.post("", openapi_extra=schemas.body(schemas.OPEN_SESSION))
    async def open_session(request: Request):
        body = json_object(request)
        sid = ids("session_id", rf.field(body, "session_id", str))
        tokens = await api.tokens_of(body, required=False)
        return await api.control.call("open_session", session_id=sid, tokens=tokens)

    @router.get("/{sid}")
    async def session_status(sid: str):
        return await api.control.call("status", session_id=ids("session_id", sid))

    @router.delete("/{sid}")
    async def close_session(sid: str):
        return await api.control.call("close_session", session_id=ids("session_id", sid))

    @router.post("/{sid}/promote")
    async def promote(sid: str):
        return await api.control.call("promote", session_id=ids("session_id", sid))

    @router.post("/{sid}/pin", openapi_extra=schemas.body(schemas.PIN))
    async def pin(sid: str, request: Request):
        body, sid = json_object(request), ids("session_id", sid)
        tool = _name(body, "tool", None)
        ttl_s = rf.field(body, "ttl_s", float, None, minimum=0)
        return await api.control.call("pin", session_id=sid, tool=tool, ttl_s=ttl_s)

    @router.delete("/{sid}/pin")
    async def unpin(sid: str):
        """The tool returned early: release the session's pin now instead of at its TTL."""
        return await api.control.call("unpin", session_id=ids("session_id", sid),
                                      reason="client")



def _branch_routes(router: APIRouter, api: SessionApi) -> None:
    """Prepare a branch, catch it up, commit it, abandon it or mark it stale."""
    ids = rf.identifier

    @router.post("/{sid}/prepare", openapi_extra=schemas.body(schemas.PREPARE))
    async def prepare(sid: str, request: Request):
        return await api.prepare(ids("session_id", sid), json_object(request))

    @router.post("/{sid}/branches/{bid}/append", openapi_extra=schemas.body(schemas.APPEND))
    async def append(sid: str, bid: str, request: Request):
        body, sid, bid = json_object(request), ids("session_id", sid), ids("branch_id", bid)
        return await api.append(sid, bid, body)

    @router.post("/{sid}/branches/{bid}/wait")
    async def wait(sid: str, bid: str):
        """Answered when the branch's prefill ended, with what became of it."""
        sid, bid = ids("session_id", sid), ids("branch_id", bid)
        return await api.call("wait", True, session_id=sid, branch_id=bid)

    @router.post("/{sid}/withdraw", openapi_extra=schemas.body(schemas.WITHDRAW))
    async def withdraw(sid: str, request: Request):
        body, sid = json_object(request), ids("session_id", sid)
        return await api.control.call("withdraw", session_id=sid,
                                      strategy=_name(body, "strategy"),
                                      version=rf.field(body, "version", int, minimum=0),
                                      reason=_name(body, "reason", "withdrawn"))

    @router.post("/{sid}/branches/{bid}/commit")
    async def commit(sid: str, bid: str):
        """The swap; a catch-up still prefilling is aborted by the scheduler
        (``catch_up_aborted``)."""
        sid, bid = ids("session_id", sid), ids("branch_id", bid)
        return await api.control.call("commit", session_id=sid, branch_id=bid)

    @router.post("/{sid}/branches/{bid}/abandon", openapi_extra=schemas.body(schemas.ABANDON))
    async def abandon(sid: str, bid: str, request: Request):
        body, sid, bid = json_object(request), ids("session_id", sid), ids("branch_id", bid)
        return await api.control.call("abandon", session_id=sid, branch_id=bid,
                                      reason=_name(body, "reason", "client"))

    @router.post("/{sid}/branches/{bid}/stale", openapi_extra=schemas.body(schemas.ABANDON))
    async def stale(sid: str, bid: str, request: Request):
        """The client saw the branch's source prefix change: released as stale, not abandoned."""
        body, sid, bid = json_object(request), ids("session_id", sid), ids("branch_id", bid)
        return await api.control.call("stale", session_id=sid, branch_id=bid,
                                      reason=_name(body, "reason", "source prefix changed"))
