"""HTTP API of the lookahead tree: sessions, prepared branches, commit, pins (under /agentrt/).

    POST   /agentrt/sessions                         {session_id, tokens|messages|text?}
    GET    /agentrt/sessions/{sid}                   status (branches with histories, pin)
    DELETE /agentrt/sessions/{sid}                   close: abandon branches, drop pins
    POST   /agentrt/sessions/{sid}/prepare           {tokens|messages|text, strategy, version,
                                                      source_signature?, wait?, promote?}
    POST   /agentrt/sessions/{sid}/branches/{bid}/append   {tokens|text, wait?}
    POST   /agentrt/sessions/{sid}/branches/{bid}/commit
    POST   /agentrt/sessions/{sid}/branches/{bid}/abandon  {reason?}
    POST   /agentrt/sessions/{sid}/pin               {tool?, ttl_s?}
    POST   /agentrt/sessions/{sid}/promote           a commit waits: unfinished prefill first

Prepare and append register the branch in the scheduler's tree first (validation happens there,
atomically), then prefill it with a background request whose rid names the branch; the tree
protects the branch the moment that request is cached. ``wait: true`` answers after the prefill.
"""
import asyncio
import json
import logging
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from agentrt.radix.cache import prepare_rid
from agentrt.server.agent_fields import BACKGROUND_PRIORITY
from agentrt.server import request_fields as rf
from agentrt.server.control_client import ControlClient, ControlError

logger = logging.getLogger("agentrt.routes")


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class SessionApi:
    def __init__(self, control: ControlClient, tokenizer_manager_getter):
        self.control = control
        self._tm = tokenizer_manager_getter  # SGLang sets its global state after plugins load
        self.tasks: set[asyncio.Task] = set()

    @property
    def tm(self):
        return self._tm()

    def tokens_of(self, body: dict, required: bool) -> list[int] | None:
        tokens = rf.token_list(body)
        if tokens is not None:
            return tokens
        msgs = rf.messages(body)
        tokenizer = self.tm.tokenizer
        if msgs is not None:
            text = tokenizer.apply_chat_template(msgs, tokenize=False,
                                                 add_generation_prompt=False)
            return list(tokenizer.encode(text, add_special_tokens=False))
        text = rf.field(body, "text", str, None)
        if text is not None:
            return list(tokenizer.encode(text, add_special_tokens=False))
        if required:
            raise rf.FieldError("one of 'tokens', 'messages' or 'text' is required")
        return None

    async def _give_up(self, session_id: str, branch_id: str, catch_up: bool,
                       reason: str) -> None:
        """A prefill that did not land: a catch-up is cancelled (the branch stays ready with
        what it had), a first preparation is abandoned (its KV freed)."""
        op = "cancel_catch_up" if catch_up else "abandon"
        try:
            await self.control.call(op, session_id=session_id, branch_id=branch_id,
                                    reason=reason)
        except ControlError:
            pass

    async def prefill(self, session_id: str, branch_id: str, tokens: list[int],
                      catch_up: bool = False) -> dict | None:
        """Background prefill of the branch's (pending) tokens; give up on it if that fails.
        Returns the branch's status after it (None when the session or branch is gone)."""
        from sglang.srt.managers.io_struct import GenerateReqInput

        try:
            obj = GenerateReqInput(
                input_ids=tokens, rid=prepare_rid(session_id, branch_id,
                                                          uuid.uuid4().hex[:8]),
                sampling_params={"max_new_tokens": 1, "temperature": 0.0},
                priority=BACKGROUND_PRIORITY)  # the lowest class: foreground goes first
            async for _ in self.tm.generate_request(obj, None):
                pass
            branch = await self._branch_status(session_id, branch_id)
            if branch is not None and (branch["state"] == "preparing" or branch["catching_up"]):
                # e.g. preempted for a foreground request (SGLang aborted it)
                await self._give_up(session_id, branch_id, branch["state"] == "ready",
                                    "prefill finished but the branch is not cached")
                return await self._branch_status(session_id, branch_id)
            return branch
        except ControlError as exc:
            if exc.status != 404:
                logger.warning("prefill of %s/%s: %s", session_id, branch_id, exc)
        except Exception as exc:  # noqa: BLE001 - a failed background prefill must not leak
            logger.warning("prefill of %s/%s failed: %s", session_id, branch_id, exc)
            await self._give_up(session_id, branch_id, catch_up, f"prefill failed: {exc}")
        try:
            return await self._branch_status(session_id, branch_id)
        except ControlError:
            return None

    async def _branch_status(self, session_id: str, branch_id: str) -> dict | None:
        status = await self.control.call("status", session_id=session_id)
        return next((b for b in status["branches"] if b["id"] == branch_id), None)

    async def start_prefill(self, session_id: str, branch: dict, wait: bool) -> dict:
        tokens = branch.pop("target")
        if branch["state"] == "ready" and not branch["catching_up"]:
            return branch
        task = asyncio.create_task(self.prefill(session_id, branch["id"], tokens,
                                                catch_up=branch["state"] == "ready"))
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


def build_router(api: SessionApi) -> APIRouter:
    router = APIRouter(prefix="/agentrt/sessions", tags=["agentrt"])

    async def run(handler, request: Request | None = None):
        try:
            raw = await request.body() if request is not None else b""
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return error(400, "the request body is not valid JSON")
        try:
            return await handler(body if body is not None else {})
        except rf.FieldError as exc:
            return error(400, str(exc))
        except ControlError as exc:
            return error(exc.status, str(exc))

    @router.post("")
    async def open_session(request: Request):
        async def h(body):
            sid = rf.field(body, "session_id", str)
            return await api.control.call("open_session", session_id=sid,
                                          tokens=api.tokens_of(body, required=False))
        return await run(h, request)

    @router.get("/{sid}")
    async def session_status(sid: str):
        async def h(_):
            return await api.control.call("status", session_id=sid)
        return await run(h)

    @router.delete("/{sid}")
    async def close_session(sid: str):
        async def h(_):
            return await api.control.call("close_session", session_id=sid)
        return await run(h)

    @router.post("/{sid}/prepare")
    async def prepare(sid: str, request: Request):
        async def h(body):
            branch = await api.control.call(
                "prepare", session_id=sid, tokens=api.tokens_of(body, required=True),
                strategy=rf.field(body, "strategy", str), version=rf.field(body, "version", int),
                source_signature=rf.field(body, "source_signature", str, ""),
                promote=rf.field(body, "promote", bool, False))
            return await api.start_prefill(sid, branch, rf.field(body, "wait", bool, False))
        return await run(h, request)

    @router.post("/{sid}/branches/{bid}/append")
    async def append(sid: str, bid: str, request: Request):
        async def h(body):
            branch = await api.control.call("append", session_id=sid, branch_id=bid,
                                            tokens=api.tokens_of(body, required=True))
            return await api.start_prefill(sid, branch, rf.field(body, "wait", bool, False))
        return await run(h, request)

    @router.post("/{sid}/branches/{bid}/commit")
    async def commit(sid: str, bid: str):
        async def h(_):
            return await api.control.call("commit", session_id=sid, branch_id=bid)
        return await run(h)

    @router.post("/{sid}/branches/{bid}/abandon")
    async def abandon(sid: str, bid: str, request: Request):
        async def h(body):
            return await api.control.call("abandon", session_id=sid, branch_id=bid,
                                          reason=rf.field(body, "reason", str, "client"))
        return await run(h, request)

    @router.post("/{sid}/promote")
    async def promote(sid: str):
        async def h(_):
            return await api.control.call("promote", session_id=sid)
        return await run(h)

    @router.post("/{sid}/pin")
    async def pin(sid: str, request: Request):
        async def h(body):
            return await api.control.call("pin", session_id=sid,
                                          tool=rf.field(body, "tool", str, None),
                                          ttl_s=rf.field(body, "ttl_s", float, None))
        return await run(h, request)

    return router
