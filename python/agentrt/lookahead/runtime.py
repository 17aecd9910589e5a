"""LookaheadRuntime: runs a strategy's transformation ahead of time and commits it by pointer.

The agent loop calls two hooks and changes nothing else:

    await runtime.on_segment_boundary(messages)   # after every model reply / tool observation
    messages = await runtime.on_commit(messages)  # before every model call; send what it returns

Between the soft and the hard threshold the runtime snapshots the messages, computes the
transform in a background task, tokenizes the transformed prefix with the server's chat template
and prepares it as a protected branch of the session (prefill in the background); each later
segment is appended to the branch (catch-up). At the hard threshold ``on_commit`` returns
``transformed + messages[segment_end:]`` at once and swaps the session to the branch, so the
model call that follows re-uses the whole prepared KV.

Outcomes (one CommitRecord per commit; the returned messages are the same in every case):
  ready     transform and branch were ready: pointer swap (a catch-up still running is left
            behind: the commit request prefills those last segments itself). The swap is sent
            beside the commit request, not before it: the request's prefix match finds the
            branch either way, and waiting would cost it a scheduler step. A swap the server
            refuses turns the record into a fallback when it is settled (``settle()``: the
            next hook, ``chat()`` or ``close()``); the messages are the same either way
  promoted  the commit waited for unfinished preparation (the fast lane)
  stale     the prefix changed since the snapshot: dropped, transformed synchronously
  fallback  transform or preparation failed (or the server lost the branch): synchronous path
  sync      lookahead disabled (the baseline): the transform runs at commit time
"""
import asyncio
import collections
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Awaitable, Callable, NamedTuple, Optional

from agentrt.lookahead.client import AgentrtClient, ServerError, ServerUnavailable
from agentrt.lookahead.strategy import (LLMCall, LookaheadStrategy, MainState, Message,
                                        Transform, TransformError, signature)

logger = logging.getLogger("agentrt.lookahead")
GROWTH_WINDOW = 4     # segments whose growth predicts the next one (their largest)


class CommitRecord(NamedTuple):
    outcome: str                 # ready | promoted | stale | fallback
    strategy: str
    prepared_tokens: int         # tokens of the prepared branch the commit swapped to (0: none)
    waited_s: float              # time on_commit spent (transform / prefill not ready)
    reason: str = ""
    segment_end: int = 0         # messages[:segment_end] were transformed; the rest kept as is
    ttft_s: Optional[float] = None   # of the commit request, when sent through runtime.chat()
    cached_tokens: Optional[int] = None


@dataclass
class _Job:
    version: int
    segment_end: int
    source_signature: str
    task: Optional[asyncio.Task] = None       # the preparation: transform, branch prefill
    catch_up: Optional[asyncio.Task] = None   # appends of later segments, after it
    transform: Optional[Transform] = None
    branch_id: Optional[str] = None
    branch_tokens: list[int] = field(default_factory=list)
    covered: int = 0              # messages[:covered] are in the branch (transformed + caught up)
    error: Optional[str] = None
    latest: list = field(default_factory=list)   # newest messages seen (catch-up target)
    stop: bool = False            # committing, or a catch-up was cancelled: no further catch-up
    noop: bool = False            # the transform changed nothing: no branch was prepared
    urgent: bool = False          # the commit deadline is near: its prefill was promoted


class LookaheadRuntime:
    def __init__(self, client: AgentrtClient, strategy: LookaheadStrategy,
                 session_id: Optional[str] = None, llm: Optional[LLMCall] = None,
                 enabled: bool = True,
                 count_tokens: Optional[Callable[[list[Message]], Awaitable[int]]] = None):
        """``enabled=False`` is the baseline: the transform runs synchronously at commit, and no
        agentrt endpoint is used (works against plain SGLang with ``count_tokens`` given)."""
        self.client, self.strategy, self.enabled = client, strategy, enabled
        self.count_tokens = count_tokens
        self.session_id = session_id or f"agent-{uuid.uuid4().hex[:12]}"
        self.state = MainState([], 0)
        self.records: list[CommitRecord] = []
        self.llm = llm or client.llm_call()
        self._job: Optional[_Job] = None
        self._versions = 0
        self._prepared = 0        # preparations that sent a branch to the server
        self._lock = asyncio.Lock()
        self._session_open = False
        self._growth: collections.deque = collections.deque(maxlen=GROWTH_WINDOW)
        self._background: set[asyncio.Task] = set()    # fire-and-forget promote calls
        self._swap: Optional[tuple[asyncio.Task, int]] = None   # the last commit's pointer
                                                                # swap, its record's index

    # --- the two hooks -----------------------------------------------------------------------
    async def on_segment_boundary(self, messages: list[Message]) -> None:
        async with self._lock:
            await self.settle()
            await self._observe(messages)
            job = self._job
            if not self.enabled:
                return
            if job is not None and job.noop:
                self._job = job = None
            if job is None:
                if self.strategy.should_lookahead(self.state):
                    self._start(messages)
                return
            if not job.urgent and job.error is None and \
                    self.strategy.should_promote(self.state):
                self._promote_early(job)
            if job.error is None and len(messages) > job.covered:
                # catch-up: one append for everything new, after the running preparation
                # (which starts it itself when it ends)
                job.latest = list(messages)
                if job.task is not None and job.task.done() and \
                        (job.catch_up is None or job.catch_up.done()):
                    job.catch_up = asyncio.create_task(self._then_catch_up(job))

    async def on_commit(self, messages: list[Message]) -> list[Message]:
        async with self._lock:  # two racing commits are serialised; the second sees the result
            await self.settle()
            await self._observe(messages)
            if not self.strategy.should_commit(self.state):
                return messages
            started = time.perf_counter()
            job, self._job = self._job, None
            result, record = await self._commit(job, messages)
            if record is None:
                # the transform changed nothing (e.g. no tool output left to clear): no commit
                # (no branch is prepared for a no-op)
                self.noop_transforms += 1
                return messages
            self.records.append(record._replace(waited_s=time.perf_counter() - started))
            if record.outcome in ("ready", "promoted"):
                self._swap = (asyncio.create_task(self._send_swap(job)), len(self.records) - 1)
            self._commit_pending_ttft = True
            await self._observe(result)
            if self.enabled and self.strategy.should_lookahead(self.state):
                # the transformed snapshot plus what came after it is still past the soft
                # threshold: prepare the next transform now, not one segment later (else the
                # next call may commit with nothing prepared)
                self._start(result)
            return result

    async def chat(self, messages: list[Message], **kw):
        """The model call, tagged with this session; the first call after a commit completes that
        commit's record with its TTFT and cached tokens."""
        result = await self.client.chat(messages, session_id=self.session_id, **kw)
        await self.settle()
        if self.records and self.records[-1].ttft_s is None and self._commit_pending_ttft:
            self.records[-1] = self.records[-1]._replace(ttft_s=result.ttft_s,
                                                         cached_tokens=result.cached_tokens)
        self._commit_pending_ttft = False
        return result

    _commit_pending_ttft = False
    noop_transforms = 0          # commits whose transform left the context as it was

    async def settle(self) -> None:
        """Wait for the last commit's pointer swap; one the server refused (e.g. it lost the
        branch) makes that commit's record a fallback."""
        swap, self._swap = self._swap, None
        if swap is None:
            return
        task, index = swap
        error = await asyncio.shield(task)
        if error is not None and index < len(self.records):
            self.records[index] = self.records[index]._replace(
                outcome="fallback", prepared_tokens=0, reason=error)

    async def _send_swap(self, job: _Job) -> Optional[str]:
        """The commit's pointer swap (sent beside the commit request); the error, if any."""
        try:
            await self.client.commit(self.session_id, job.branch_id)
            return None
        except (ServerError, ServerUnavailable) as exc:
            await self._abandon(job, "not committed")
            return f"commit failed: {exc}"

    async def wait_prepared(self) -> None:
        """Wait until the running preparation and its catch-up are done (what tool time
        would give them); returns at once when none runs."""
        job = self._job
        while job is not None:
            pending = [t for t in (job.task, job.catch_up) if t is not None and not t.done()]
            if not pending:
                return
            await asyncio.gather(*pending, return_exceptions=True)

    @property
    def preparations_started(self) -> int:
        """Background preparations started so far (committed or not: the rest were wasted)."""
        return self._prepared

    async def close(self) -> None:
        await self.settle()
        job, self._job = self._job, None
        for task in (job.task, job.catch_up) if job is not None else ():
            if task is not None:
                task.cancel()
        if self._session_open:
            try:
                await self.client.close_session(self.session_id)
            except (ServerError, ServerUnavailable):
                pass
            self._session_open = False

    # --- internals -----------------------------------------------------------------------------
    def _grew(self, before: int, after: int) -> None:
        """Segment growth for ``MainState.growth`` (a commit's shrink is not a segment)."""
        if before and after > before:
            self._growth.append(after - before)
            self.state.growth = max(self._growth)

    async def _observe(self, messages: list[Message]) -> None:
        before = self.state.tokens
        try:
            await self._count(messages)
        finally:
            self._grew(before, self.state.tokens)

    async def _count(self, messages: list[Message]) -> None:
        self.state.messages = messages
        if self.count_tokens is not None and not self.enabled:
            self.state.tokens = await self.count_tokens(messages)
            return
        try:
            tokens = await self.client.tokenize(messages)
            self.state.tokens = len(tokens) if self.count_tokens is None \
                else await self.count_tokens(messages)
            if not self._session_open:
                await self.client.open_session(self.session_id, tokens)
                self._session_open = True
        except ServerError as exc:
            if exc.status == 409:       # already open (e.g. a second runtime object)
                self._session_open = True
            else:
                raise
        except ServerUnavailable:
            self.state.tokens = sum(len(m.get("content") or "") for m in messages) // 4
            self._session_open = False

    def _start(self, messages: list[Message]) -> None:
        self._versions += 1
        end = self.strategy.segment_end(messages)
        job = _Job(self._versions, end, signature(messages, end),
                   urgent=self.strategy.should_promote(self.state))
        job.task = asyncio.create_task(self._prepare(job, list(messages)))
        self._job = job

    async def _prepare(self, job: _Job, snapshot: list[Message]) -> None:
        try:
            job.transform = await self.strategy.transform(snapshot[:job.segment_end],
                                                          dict(self.state.strategy_data), self.llm)
        except TransformError as exc:
            job.error = f"transform failed: {exc}"
            return
        if job.transform.messages == snapshot[:job.segment_end]:
            job.noop = True     # nothing to prepare; a later boundary tries a fresh snapshot
            return
        try:
            job.branch_tokens = await self.client.tokenize(job.transform.messages)
            if self._swap is not None:
                # the last commit's swap lands first: a new branch of the same strategy would
                # supersede the one being committed
                await asyncio.shield(self._swap[0])
            self._prepared += 1
            branch = await self.client.prepare(self.session_id, job.branch_tokens,
                                               self.strategy.name, job.version,
                                               job.source_signature, wait=True,
                                               promote=job.urgent)
            if branch["state"] != "ready":
                job.error = f"branch {branch['id']} is {branch['state']}"
                return
            job.branch_id, job.covered = branch["id"], job.segment_end
            job.latest = max(job.latest, snapshot, key=len)
            if not job.stop:
                job.catch_up = asyncio.create_task(self._then_catch_up(job))
        except (ServerError, ServerUnavailable) as exc:
            job.error = f"prepare failed: {exc}"
            if isinstance(exc, ServerError) and exc.status == 404:
                self._session_open = False   # the server lost the session (restart): reopen

    def _promote_early(self, job: _Job) -> None:
        """The commit deadline is near and the preparation (or its catch-up) still runs:
        promote it now, so it is ready when the commit comes (the commit would promote it
        anyway, and then wait). A preparation not yet sent is sent promoted."""
        job.urgent = True     # a prepare request not sent yet is sent promoted
        if not any(t is not None and not t.done() for t in (job.task, job.catch_up)):
            return

        async def promote():
            try:
                await self.client.promote(self.session_id)
            except (ServerError, ServerUnavailable):
                pass
        task = asyncio.create_task(promote())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _then_catch_up(self, job: _Job) -> None:
        """Catch the branch up to the newest messages seen, in as few appends as possible."""
        while job.branch_id and job.error is None and not job.stop \
                and len(job.latest) > job.covered:
            await self._catch_up(job, job.latest)

    async def _catch_up(self, job: _Job, messages: list[Message]) -> None:
        """Append the segments that arrived since the branch was prepared."""
        try:
            tokens = await self.client.tokenize(job.transform.messages +
                                                messages[job.segment_end:])
            if tokens[:len(job.branch_tokens)] != job.branch_tokens:
                job.error = "catch-up tokens do not extend the branch"
                return
            extra = tokens[len(job.branch_tokens):]
            if extra:
                branch = await self.client.append(self.session_id, job.branch_id, extra)
                if branch["state"] != "ready" or branch["catching_up"]:
                    job.error = f"catch-up left branch {job.branch_id} {branch['state']}"
                    return
                if branch["tokens"] != len(tokens):
                    # the server cancelled the catch-up (e.g. preempted for a foreground
                    # request): the branch is still ready as it was; the commit request
                    # prefills the rest
                    job.stop = True
                    return
                job.branch_tokens = tokens
            job.covered = len(messages)
        except (ServerError, ServerUnavailable) as exc:
            job.error = f"catch-up failed: {exc}"

    async def _commit(self, job: Optional[_Job], messages: list[Message]):
        name = self.strategy.name
        if job is not None and job.source_signature == signature(messages, job.segment_end):
            # a catch-up still running is left behind: the commit swaps to what is prepared
            # now, and the commit request prefills the last segments itself (at foreground
            # priority), as it would when the preparation is still running
            job.stop = True
            promoted = job.task is not None and not job.task.done()
            if promoted:
                try:   # the fast lane: the scheduler puts this session's prefill first
                    await self.client.promote(self.session_id)
                except (ServerError, ServerUnavailable):
                    pass
                await job.task
            if job.noop:
                return messages, None
            if job.transform is not None:
                result = job.transform.messages + list(messages[job.segment_end:])
                self.state.strategy_data = job.transform.strategy_data
                if job.branch_id and not job.error:
                    # on_commit sends the swap (``_send_swap``) beside the commit request
                    return result, CommitRecord("promoted" if promoted else "ready", name,
                                                len(job.branch_tokens), 0.0,
                                                segment_end=job.segment_end)
                await self._abandon(job, "not committed")
                return result, CommitRecord("fallback", name, 0, 0.0,
                                            job.error or "branch not prepared",
                                            segment_end=job.segment_end)
            reason = job.error or "no transform"
            outcome = "fallback"
        elif job is not None:
            outcome, reason = "stale", "source prefix changed since the snapshot"
            for task in (job.task, job.catch_up):
                if task is not None:
                    task.cancel()
            await self._abandon(job, "stale")
        elif not self.enabled:
            outcome, reason = "sync", "lookahead disabled"
        else:
            outcome, reason = "fallback", "no lookahead was started"
        end = self.strategy.segment_end(messages)
        result = await self._synchronous(messages, end)
        if result == messages and result is not messages:
            return messages, None        # the transform succeeded and changed nothing
        return result, CommitRecord(outcome, name, 0, 0.0, reason, segment_end=end)

    async def _abandon(self, job: _Job, reason: str) -> None:
        """Release a branch the commit does not use (the server would also, under pressure)."""
        if job.branch_id:
            try:
                await self.client.abandon(self.session_id, job.branch_id, reason)
            except (ServerError, ServerUnavailable):
                pass

    async def _synchronous(self, messages: list[Message], end: int) -> list[Message]:
        """The transform on the critical path; if even that fails, the context is kept as is
        (``messages`` itself is returned; a successful transform returns a new list)."""
        try:
            t = await self.strategy.transform(messages[:end], dict(self.state.strategy_data),
                                              self.llm)
        except TransformError as exc:
            logger.warning("synchronous transform failed (%s); keeping the context", exc)
            return messages
        self.state.strategy_data = t.strategy_data
        return t.messages + list(messages[end:])
