"""Preparer: the background half of a Job (transform -> prepare, then catch-ups).

Each prepare and each catch-up is one call: the transformed messages go to the server, which
tokenizes them, decides whether the preparation fits its idle time, and answers when the
branch's prefill ended with what became of it (``outcome``).

It runs as tasks on the runtime's event loop and reports every result to the Job through its
events (job.py); it never decides a commit. Every server error becomes a failed job, never an
exception in the agent's loop.
"""
import asyncio
import logging
import time
from typing import Awaitable, Callable, Optional

from agentrt.lookahead.client import ServerError, ServerUnavailable
from agentrt.lookahead.capacity import IdleWindows, StartDecision
from agentrt.lookahead.job import Job, JobState, Lane
from agentrt.lookahead.strategy import (LLMCall, LookaheadStrategy, Message, Transform,
                                        TransformError)

logger = logging.getLogger("agentrt.lookahead")
COMMIT_DUE_HOLD_S = 0.25   # a preparation whose commit is due before it is sent waits up to this
                           # long for it (an agent that calls the model right after its boundary
                           # sends the commit within milliseconds; tool time is longer); the
                           # commit ends the wait at once


class Preparer:
    def __init__(self, client, session_id: str, before_send: Callable[[], Awaitable[None]],
                 session_lost: Callable[[], None],
                 tail_of: Callable[[Job, list[Message]], Awaitable[Transform]],
                 windows: Callable[[], Optional[IdleWindows]],
                 admitted: Callable[[StartDecision], None]):
        """``before_send`` is awaited right before a prepare or an append is sent (the last
        commit's swap must land first; the agent's own model call must end); ``session_lost``
        is called when the server no longer knows the session (it restarted); ``tail_of``
        gives the segments after the job's snapshot as a catch-up appends them: the part whose
        committed form is final (the runtime's one rule for it); ``windows`` gives the idle
        time the agent expects before its commit, from now and from its next boundary (None:
        unknown, or the check is off), sent with a background preparation so the server can
        defer it (capacity.py); ``admitted`` hears the server's decision."""
        self.client, self.session_id = client, session_id
        self.before_send, self.session_lost = before_send, session_lost
        self.tail_of, self.windows, self.admitted = tail_of, windows, admitted
        self.started = 0               # preparations that sent a branch to the server
        self._background: set[asyncio.Task] = set()    # fire-and-forget promote calls

    def start(self, job: Job, snapshot: list[Message], strategy: LookaheadStrategy,
              strategy_data: dict, llm: LLMCall) -> None:
        job.task = asyncio.create_task(self._prepare(job, snapshot, strategy, strategy_data, llm))

    async def _prepare(self, job: Job, snapshot, strategy, strategy_data, llm) -> None:
        source = snapshot[:job.segment_end]
        try:
            job.transform = await strategy.transform(source, strategy_data, llm)
        except TransformError as exc:
            job.failed(f"transform failed: {exc}")
            return
        if job.transform.messages == source:
            job.unchanged()     # nothing to prepare; a later boundary tries a fresh snapshot
            return
        try:
            if job.held:      # the commit is due: one that follows at once takes the transform
                await job.wait_for_commit(COMMIT_DUE_HOLD_S)
            await self.before_send()
            if job.state is JobState.COMMITTING:
                # the commit came first and waits: its own request prefills the transform (one
                # request, as the synchronous path, instead of a branch and a request after it)
                job.deferred("the commit came before the branch was sent")
                return
            window = self.windows() if job.lane is Lane.BACKGROUND else None
            now_s, later_s = (None, None) if window is None else window
            job.sent, job.sent_at = True, time.perf_counter()
            branch = await self.client.prepare(self.session_id, job.transform.messages,
                                               strategy.name, job.version,
                                               job.source_signature, wait=True,
                                               promote=job.lane is Lane.PROMOTED,
                                               window_s=now_s, later_window_s=later_s)
            if "admission" in branch:
                decision = StartDecision(**branch["admission"])
                job.need_s = decision.need_s or None
                self.admitted(decision)
            if branch["outcome"] == "deferred":
                job.deferred(branch["reason"])    # nothing spent; the next boundary retries
                return
            self.started += 1
            if branch["outcome"] != "ready":
                job.failed(f"branch {branch['id']} is {branch['outcome']}: {branch['reason']}")
                return
            job.prepared(branch["id"], branch["tokens"])
            job.latest = max(job.latest, snapshot, key=len)
            if job.wants_catch_up():
                job.catch_up = asyncio.create_task(self.catch_up(job))
        except (ServerError, ServerUnavailable) as exc:
            if isinstance(exc, ServerError) and exc.status == 413:   # over the lookahead budget:
                job.deferred(f"no room for the branch: {exc}")      # refused, nothing spent
            job.failed(f"prepare failed: {exc}")   # (a deferred job stays deferred)
            if isinstance(exc, ServerError) and exc.status == 404:
                self.session_lost()

    async def catch_up(self, job: Job) -> None:
        """Catch the branch up to the newest messages seen, in as few appends as possible."""
        while job.wants_catch_up():
            await self._append(job)

    async def _append(self, job: Job) -> None:
        """Append the segments that arrived since the branch was prepared, up to the newest
        seen once it may be sent (none once the commit took the job meanwhile; no call when none
        of them is final yet: the branch already holds every final one)."""
        try:
            await self.before_send()
            if not job.wants_catch_up():
                return
            messages = job.latest
            tail = (await self.tail_of(job, messages)).messages
            if len(tail) == len(job.tail):
                job.caught_up(job.branch_len, len(messages), job.tail)
                return
            branch = await self.client.append(self.session_id, job.branch_id,
                                              job.transform.messages + tail,
                                              promote=job.lane is Lane.PROMOTED)
            if branch["outcome"] == "cancelled":
                job.behind()     # the server cancelled it (e.g. preempted): ready as it was
                logger.info("session %s: catch-up of branch %s cancelled (%s); no more appends",
                            self.session_id, job.branch_id, branch.get("reason"))
                return
            if branch["outcome"] != "ready":
                job.failed(f"catch-up left branch {job.branch_id} {branch['outcome']}")
                logger.info("session %s: %s", self.session_id, job.reason)
                return
            job.caught_up(branch["tokens"], len(messages), tail)
            logger.debug("session %s: branch %s caught up to %d messages, %d tokens",
                         self.session_id, job.branch_id, len(messages), branch["tokens"])
        except (ServerError, ServerUnavailable, TransformError) as exc:
            job.failed(f"catch-up failed: {exc}")
            logger.info("session %s: %s", self.session_id, job.reason)

    async def promote(self) -> None:
        """Move the session's unfinished preparation to the scheduler's fast lane."""
        try:
            await self.client.promote(self.session_id)
        except (ServerError, ServerUnavailable):
            pass

    def promote_early(self, job: Job) -> None:
        """The commit deadline is near: a preparation not sent yet is sent promoted, one
        running (or its catch-up) is promoted now, so it is ready when the commit comes."""
        job.promote()
        if job.busy:
            self.promote_sent(job)

    def promote_sent(self, job: Job) -> None:
        """Promote what the job has on the server, if anything, without waiting for the answer
        (the call waits for the scheduler's loop; the commit waits for the branch instead)."""
        if not job.sent:
            return
        task = asyncio.create_task(self.promote())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
