"""HTTP API of the lookahead tree: sessions, prepared branches, commit, pins (under /agentrt/).

    POST   /agentrt/sessions                         {session_id, tokens|messages|text?}
    GET    /agentrt/sessions/{sid}                   status (branches with histories, pin)
    DELETE /agentrt/sessions/{sid}                   close: abandon branches, drop pins
    POST   /agentrt/sessions/{sid}/prepare           {tokens|messages|text, strategy, version,
                                                      source_signature?, wait?, promote?}
    POST   /agentrt/sessions/{sid}/branches/{bid}/append   {tokens|text, wait?}
    POST   /agentrt/sessions/{sid}/branches/{bid}/commit
    POST   /agentrt/sessions/{sid}/branches/{bid}/abandon  {reason?}
    POST   /agentrt/sessions/{sid}/branches/{bid}/stale    {reason?}  source changed: released
    POST   /agentrt/sessions/{sid}/pin               {tool?, ttl_s?}
    DELETE /agentrt/sessions/{sid}/pin               release the pin before its TTL
    POST   /agentrt/sessions/{sid}/promote           a commit waits: unfinished prefill first

Prepare and append register the branch in the scheduler's tree first (validation happens there,
atomically), then prefill it with a background request whose rid names the branch; the tree
protects the branch the moment that request is cached. ``wait: true`` answers after the prefill.
"""
import asyncio
import logging
import uuid

from fastapi import APIRouter, Request

from agentrt.radix.rids import prepare_rid
from agentrt.server.http.agent_fields import BACKGROUND_PRIORITY
from agentrt.server.http import fields as rf, schemas
from agentrt.server.control.client import ControlClient, ControlError
from agentrt.server.http.guard import json_object

logger = logging.getLogger("agentrt.routes")
MAX_NAME = 256   # strategy names, signatures, reasons


class SessionApi:
    def __init__(self, control: ControlClient, tokenizer_manager_getter,
                 max_session_tokens: int = 0):
        """``max_session_tokens``: most tokens of a context or branch (0: the model's context)."""
        self.control = control
        self._tm = tokenizer_manager_getter  # SGLang sets its global state after plugins load
        self.max_session_tokens = max_session_tokens
        self.tasks: set[asyncio.Task] = set()
        self.in_flight: dict[str, str] = {}    # branch id -> rid of its prefill request

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

    async def prefill(self, session_id: str, branch_id: str, tokens: list[int]) -> dict | None:
        """Background prefill of the branch's (pending) tokens. The scheduler's tree decides
        what became of the branch when the request ends (landed: ready; ended without
        landing: a catch-up cancelled, a first preparation abandoned; ``cache.prefill_ended``);
        a request that failed before reaching the scheduler is reported to it the same way.
        Returns the branch's status after it (None when the session or branch is gone)."""
        from sglang.srt.managers.io_struct import GenerateReqInput

        rid = prepare_rid(session_id, branch_id, uuid.uuid4().hex[:8])
        self.in_flight[branch_id] = rid
        try:
            obj = GenerateReqInput(
                input_ids=tokens, rid=rid,
                sampling_params={"max_new_tokens": 1, "temperature": 0.0},
                priority=BACKGROUND_PRIORITY)  # the lowest class: foreground goes first
            async for _ in self.tm.generate_request(obj, None):
                pass
        except Exception as exc:  # noqa: BLE001 - a failed background prefill must not leak
            logger.warning("prefill of %s/%s failed: %s", session_id, branch_id, exc)
            await self._ended(session_id, branch_id, f"prefill failed: {exc}")
        finally:
            if self.in_flight.get(branch_id) == rid:
                del self.in_flight[branch_id]
        try:
            return await self._branch_status(session_id, branch_id)
        except ControlError:
            return None

    async def _ended(self, session_id: str, branch_id: str, reason: str) -> None:
        try:
            await self.control.call("prefill_ended", session_id=session_id,
                                    branch_id=branch_id, reason=reason)
        except ControlError:
            pass

    def overtaken(self, branch_id: str) -> bool:
        """The branch was committed: its catch-up still prefilling is aborted (the commit
        request carries those tokens and prefills what did not land; what landed stays in the
        tree for it). Returns whether one was aborted."""
        rid = self.in_flight.pop(branch_id, None)
        if rid is not None:
            self.tm.abort_request(rid)
        return rid is not None

    async def _branch_status(self, session_id: str, branch_id: str) -> dict | None:
        status = await self.control.call("status", session_id=session_id)
        return next((b for b in status["branches"] if b["id"] == branch_id), None)

    async def start_prefill(self, session_id: str, branch: dict, wait: bool) -> dict:
        tokens = branch.pop("target")
        if branch["state"] == "ready" and not branch["catching_up"]:
            return branch
        task = asyncio.create_task(self.prefill(session_id, branch["id"], tokens))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        if wait:
            # the status the prefill read after it (one scheduler round trip, not two: a
            # promoted preparation's commit waits on this answer)
            after = await task
            if after is None:
                raise ControlError(f"branch {branch['id']} of session {session_id} is gone", 404)
            return after
        return branch


def encode(tokenizer, msgs: list[dict] | None, text: str | None, generation: bool) -> list[int]:
    """Token ids of chat messages (served chat template) or of a text (no special tokens)."""
    if msgs is not None:
        try:
            text = tokenizer.apply_chat_template(msgs, tokenize=False,
                                                 add_generation_prompt=generation)
        except Exception as exc:  # noqa: BLE001 - the template is code run on client data
            raise rf.FieldError(f"the served chat template cannot render these messages: "
                                f"{type(exc).__name__}: {str(exc)[:200]}") from None
    return list(tokenizer.encode(text, add_special_tokens=False))


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
        body, sid = json_object(request), ids("session_id", sid)
        args = dict(tokens=await api.tokens_of(body, required=True),
                    strategy=_name(body, "strategy"),
                    version=rf.field(body, "version", int, minimum=0),
                    source_signature=_name(body, "source_signature", ""),
                    promote=rf.field(body, "promote", bool, False))
        wait = rf.field(body, "wait", bool, False)
        branch = await api.control.call("prepare", session_id=sid, **args)
        return await api.start_prefill(sid, branch, wait)

    @router.post("/{sid}/branches/{bid}/append", openapi_extra=schemas.body(schemas.APPEND))
    async def append(sid: str, bid: str, request: Request):
        body, sid, bid = json_object(request), ids("session_id", sid), ids("branch_id", bid)
        tokens = await api.tokens_of(body, required=True)
        wait = rf.field(body, "wait", bool, False)
        branch = await api.control.call("append", session_id=sid, branch_id=bid, tokens=tokens,
                                        max_tokens=api.limits().max_tokens)
        return await api.start_prefill(sid, branch, wait)

    @router.post("/{sid}/branches/{bid}/commit")
    async def commit(sid: str, bid: str):
        sid, bid = ids("session_id", sid), ids("branch_id", bid)
        committed = await api.control.call("commit", session_id=sid, branch_id=bid)
        committed["catch_up_aborted"] = api.overtaken(bid)
        return committed

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
