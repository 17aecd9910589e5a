"""EditLookahead: the server prepares its own ``context_management`` edits ahead of the trigger.

Each request of a conversation that asks for context management (``lookahead`` not false) is a
segment boundary. The walk (ServerEditor calls ``commit`` before the request, ``boundary`` after
its response):
  1. after the response (``boundary``): when an edit's soft trigger (``lookahead.fraction`` of
     its value) is reached (``soft_reached``: one past its value but held back by
     ``clear_at_least`` too) and the conversation has no preparation, a Job starts on the
     client-side Preparer, driven here over LocalOps: ``next_trigger`` of the history (a
     summary is a background request to this server; for decomposable edits only its settled
     part, editing/prepared.py), rendered with the served chat template, prepared as a branch
     of the conversation's tree session in the background lane (the ledger counts it as
     ``prepare``; the live branch is locked). A ready preparation is caught up with each later
     history (``catch_up``): what its edit (settled part, or adopted edit) adds past the branch;
  2. at the trigger turn (the synchronous edit would fire: ``hard_triggers``), ``commit``: a
     preparation still prefilling is promoted and awaited; one that is stale
     (agentrt/editing/prepared.py: other configuration, edited or forked history, reset state),
     failed, or whose edit does not start with the branch's messages is released and the turn
     falls back to the synchronous edit (unedited if that fails too); else the edit (the
     synchronous one for decomposable edits, the prepared state adopted for the others: the
     branch plus the messages after it, byte for byte) is served, the session's head is
     swapped to the branch (a catch-up still prefilling is aborted: the request carries it) and
     the request is sent.
The report (``context_management``) of a trigger turn says ``prepared: true`` and
``prepared_tokens`` (the branch's tokens the prompt starts with), or ``prepared: false`` and
``fallback`` (why).

Capacity: each preparation is sent with the idle time the conversation is expected to leave
before its trigger turn (``capacity.Pace``: its requests' spacing and growth), so a server without that
idle time defers it (``prepared: false``, the synchronous edit) having spent nothing.

Bounds: one preparation per conversation at a time (a new one waits for the retired one's tasks);
a conversation evicted from the ConversationStore (LRU / TTL) has its tree session closed (its
branches abandoned, its pins dropped). The tree session is the client's ``session_id`` when it
sent one, else ``cm-<digest of the conversation key>``, written into the request body so the
tree follows the conversation's context; a session someone else opened (409) gets no lookahead.
Branches hold the tokens SGLang renders for the conversation's requests, in their own format
(chat completions or /v1/messages) with their tools (served.py); one it cannot render so is
not prepared (the trigger turn takes the synchronous edit).
"""
import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional

from agentrt.editing import ContextManagement, ConversationState, ConversationStore
from agentrt.editing.lookahead import hard_triggers, soft_reached
from agentrt.editing.prepared import RESULT, EditTransform, stale_reason, tail_after
from agentrt.editing.state import history_digest
from agentrt.lookahead.capacity import IdleWindows, Pace
from agentrt.lookahead.client import ServerError, ServerUnavailable
from agentrt.lookahead.job import Job, JobState
from agentrt.lookahead.preparation import Preparer
from agentrt.lookahead.strategy import Transform, TransformError
from agentrt.server.editing.served import ConversationOps, ServedEncoding

logger = logging.getLogger("agentrt.editing")
PACE_REQUESTS = 8     # requests whose spacing and growth give a conversation's pace


class Adopted(NamedTuple):
    """A trigger turn's outcome: the adopted edit (None: edit synchronously) and the keys the
    response's ``context_management`` report gets."""
    result: Any
    report: dict


@dataclass
class Slot:
    """One conversation's tree session and its preparation."""
    session_id: str
    ops: ConversationOps                   # its branches tokenized as its requests are served
    preparer: Optional[Preparer] = None
    job: Optional[Job] = None
    transform: Optional[EditTransform] = None
    versions: int = 0
    retired: list = field(default_factory=list)    # tasks of jobs dropped before they ended


def _fallback(reason: str) -> Adopted:
    return Adopted(None, {"prepared": False, "fallback": reason})


class EditLookahead:
    def __init__(self, ops, store: ConversationStore, editor):
        """``ops``: LocalOps; ``editor``: the ServerEditor (count_tokens, summarize, offload)."""
        self.ops, self.store, self.editor = ops, store, editor
        self.slots: dict[str, Slot] = {}
        self.foreign: set[str] = set()     # tree sessions that another client opened
        self.opened: set[str] = set()      # tree sessions this server's lookahead opened
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()
        self.paces: dict[str, Pace] = {}   # conversation key -> its pace (a tick per request)
        store.on_evict.append(self.forget)

    # --- what the editor asks ---------------------------------------------------------------
    @staticmethod
    def applies(config: ContextManagement) -> bool:
        return config.lookahead > 0 and bool(config.edits)

    def session_of(self, key: str) -> Optional[str]:
        """The tree session of the conversation (None until a preparation opened one)."""
        slot = self.slots.get(key)
        return slot.session_id if slot is not None else None

    def is_trigger_turn(self, messages, config, state, fmt: str, system) -> bool:
        return bool(hard_triggers(messages, config, state, fmt=fmt,
                                  count_tokens=self.editor.count_tokens, system=system))

    async def commit(self, key: str, messages: list, config: ContextManagement,
                     state: Optional[ConversationState], system: Any = None) -> Adopted:
        """The trigger turn: adopt the conversation's preparation, or say why not."""
        async with self._lock:        # the job is taken under the lock; awaited outside it
            slot = self.slots.get(key)
            job = slot.job if slot is not None else None
            if job is None:
                return _fallback("nothing was prepared: no soft trigger was seen before this "
                                 "trigger turn")
            slot.job = None
        return await self._adopt(slot, job, messages, config, state, system)

    async def _adopt(self, slot: Slot, job: Job, messages, config, state, system) -> Adopted:
        await slot.preparer.withdraw_undecided(job)   # no wait of a scheduler step for it
        promoted = job.preparing and job.state is not JobState.DEFERRED
        job.commit()                     # no more catch-ups; a landing prepare stays committing
        if promoted:                     # the commit waits: the prefill goes first
            await slot.preparer.promote()
            await asyncio.shield(job.task)
        # a branch not adopted stays in the tree as cache: the turn's prompt (the synchronous
        # edit, or the edit that went on) may share a prefix with it
        if job.state is not JobState.COMMITTING or not job.branch_id:
            await self._release(slot, job, "not committed", keep_cache=True)
            return _fallback(f"the preparation is {job.state.value}: "
                             f"{job.reason or 'the edit changed nothing'}")
        prepared = job.transform.strategy_data[RESULT]
        reason = stale_reason(prepared.state, state, messages, config, system)
        if reason is not None:
            await self._release(slot, job, reason, stale=True)
            return _fallback(f"stale: {reason}")
        try:   # decomposable edits: the synchronous edit itself (the branch is settled)
            result = slot.transform.synchronous(messages, state) \
                if slot.transform.segment_local else slot.transform.adopt(prepared, messages)
        except TransformError as exc:
            await self._release(slot, job, "not committed", keep_cache=True)
            return _fallback(str(exc))
        try:
            tail_after(job.branch_messages, result.messages)
        except TransformError as exc:
            # the edit went on into the prepared part (e.g. a large result since the snapshot
            # reached the trigger again): that edit is served, and its prompt reuses the part
            # it shares with the branch
            await self._release(slot, job, "the adopted edit went on", keep_cache=True)
            return Adopted(result, {"prepared": False,
                                    "fallback": f"{exc}: its shared prefix is reused"})
        tokens = job.branch_len
        try:
            await self.ops.commit(slot.session_id, job.branch_id)
        except (ServerError, ServerUnavailable) as exc:
            await self._release(slot, job, "not committed")
            return _fallback(f"the commit failed: {exc}")
        job.swapped()
        return Adopted(result, {"prepared": True, "prepared_tokens": tokens,
                                "promoted": promoted})

    # --- after the response ------------------------------------------------------------------
    def boundary(self, key: str, messages: list, config: ContextManagement,
                 state: ConversationState, fmt: str, system: Any, served: list,
                 session_hint: Optional[str], encoding: ServedEncoding) -> None:
        """Schedule the boundary work (never raises; runs after the response is sent).
        ``encoding``: how this request of the conversation was rendered (served.py)."""
        self._spawn(self._boundary(key, messages, config, state, fmt, system, served,
                                   session_hint, encoding))

    async def _boundary(self, key, messages, config, state, fmt, system, served, hint,
                        encoding) -> None:
        pace = self.paces.setdefault(key, Pace(PACE_REQUESTS))
        pace.tick(time.monotonic())
        pace.count(self.editor.count_tokens(messages))
        async with self._lock:
            slot = self.slots.get(key)
            if slot is not None:
                slot.ops.encoding = encoding      # catch-ups render as the latest request
            if slot is not None and slot.job is not None:
                self._follow(slot, slot.job, messages, system)
            if slot is not None and slot.job is not None:
                return
            if not soft_reached(messages, config, state, fmt=fmt,
                                count_tokens=self.editor.count_tokens,
                                fraction=config.lookahead, system=system):
                return
            slot = slot or await self._open(key, served, hint, encoding)
            if slot is not None:
                self._start(slot, messages, config, state, fmt, system)

    def _follow(self, slot: Slot, job: Job, messages: list, system) -> None:
        """A later history: drop a stale or deferred job, catch a ready one up."""
        if job.source_signature != history_digest(messages, job.segment_end, system):
            slot.job = None
            self._spawn(self._release(slot, job, "the history was edited or forked",
                                      stale=True))
        elif job.state is JobState.DEFERRED:
            slot.job = None
        elif job.state in (JobState.PREPARING, JobState.READY) and len(messages) > job.covered:
            job.latest = list(messages)
            if not job.busy and job.wants_catch_up():
                job.catch_up = asyncio.create_task(slot.preparer.catch_up(job))

    def _start(self, slot: Slot, messages, config, state, fmt, system) -> None:
        slot.versions += 1
        slot.transform = EditTransform(config, state, fmt=fmt,
                                       count_tokens=self.editor.count_tokens,
                                       summarizer=self.editor.summarize,
                                       offload_store=self.editor.offload, system=system)
        end = len(messages)
        slot.job = Job(slot.versions, end, history_digest(messages, end, system))
        slot.preparer.start(slot.job, list(messages), slot.transform, {}, None)

    async def _open(self, key: str, served: list, hint: Optional[str],
                    encoding: ServedEncoding) -> Optional[Slot]:
        """Open the conversation's tree session (its context: the served prompt's tokens)."""
        sid = hint if isinstance(hint, str) and hint else \
            "cm-" + hashlib.sha256(key.encode()).hexdigest()[:24]
        if sid in self.foreign:
            return None
        ops = ConversationOps(self.ops, encoding)
        try:
            await self.ops.open_session(sid, await ops.tokenize(served))
        except (ServerError, ServerUnavailable) as exc:
            conflict = isinstance(exc, ServerError) and exc.status == 409
            if not conflict or sid not in self.opened:    # (ours: still open, reused)
                if conflict:
                    self.foreign.add(sid)
                logger.info("no server-side lookahead for session %s: %s", sid, exc)
                return None
        self.opened.add(sid)
        slot = Slot(sid, ops)
        slot.preparer = Preparer(ops, sid, lambda: self._retired_done(slot),
                                 lambda: self._lost(key), self._tail_of(slot),
                                 lambda: self._windows(key),
                                 lambda decision: None)
        self.slots[key] = slot
        return slot

    def _tail_of(self, slot: Slot):
        async def tail_of(job: Job, messages: list) -> Transform:
            prepared = job.transform.strategy_data[RESULT]
            return Transform(slot.transform.tail_after(prepared, job.transform.messages,
                                                       messages),
                             job.transform.strategy_data)
        return tail_of

    async def _retired_done(self, slot: Slot) -> None:
        """A new preparation's prepare waits for the tasks of the one dropped before it."""
        pending, slot.retired = [t for t in slot.retired if not t.done()], []
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def _windows(self, key: str) -> Optional[IdleWindows]:
        """The idle time the conversation is expected to leave before its trigger turn, from now
        and from its next request (the server's capacity check defers a preparation that would
        not fit it, or would fit it later); None: not known,
        or the check is off. Its trigger turn is estimated ``tokens / F`` tokens once the soft
        trigger (F of the trigger) is reached, whatever the trigger counts (it grows with the
        context)."""
        pace, slot = self.paces.get(key), self.slots.get(key)
        if pace is None or slot is None or slot.transform is None:
            return None
        config = slot.transform.config
        if not config.capacity_aware or not 0 < config.lookahead < 1:
            return None
        return pace.windows(int(pace.tokens / config.lookahead))

    def _lost(self, key: str) -> None:
        """The scheduler no longer knows the session (restart, flush): reopened on need."""
        self.slots.pop(key, None)

    async def _release(self, slot: Slot, job: Job, reason: str, stale: bool = False,
                       keep_cache: bool = False) -> None:
        """Release a branch that is not committed (``keep_cache``: what it prefilled stays in
        the tree as ordinary cache); the job's tasks run out on their own."""
        slot.retired += [t for t in (job.task, job.catch_up) if t is not None]
        if stale:
            job.stale()
        else:
            job.failed(reason)
        if not job.branch_id:
            return
        try:
            if stale:
                await self.ops.mark_stale(slot.session_id, job.branch_id, reason[:200])
            else:
                await self.ops.abandon(slot.session_id, job.branch_id, reason[:200],
                                       keep_cache=keep_cache)
        except (ServerError, ServerUnavailable):
            pass

    # --- eviction ----------------------------------------------------------------------------
    def forget(self, key: str) -> None:
        """The store dropped the conversation: close its tree session (branches, pins)."""
        self.paces.pop(key, None)
        slot = self.slots.pop(key, None)
        if slot is not None:
            self._spawn(self._close(slot))

    async def _close(self, slot: Slot) -> None:
        """A prefill still in flight lands on an ended branch and is freed; a prepare sent
        after the close finds no session (404) and fails its job."""
        self.opened.discard(slot.session_id)
        try:
            await self.ops.close_session(slot.session_id)
        except (ServerError, ServerUnavailable):
            pass

    def _spawn(self, coro) -> None:
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:      # no event loop (a store used outside the server)
            coro.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("server-side lookahead: %r", task.exception())

