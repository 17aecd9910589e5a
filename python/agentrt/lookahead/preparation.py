"""Preparer: the background half of a Job (transform -> prepare, then catch-ups).

A prepare is two calls: the transformed messages go to the server, which tokenizes them and
answers at its scheduler's next loop whether the preparation fits its idle time; an admitted
branch is then waited on until its prefill ended (``outcome``). A commit that comes before the
first answer waits for it only ``DECISION_GRACE_S`` (a busy scheduler loop is a forward step of
seconds), then withdraws the prepare (``withdraw``) and commits without it. A catch-up is one
call, answered when its prefill ended.

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
DECISION_GRACE_S = 0.2     # how long a commit waits for the server's decision on a prepare sent
                           # (an idle server answers within milliseconds, one decoding within a
                           # step of ~0.1 s; a prefill step takes seconds): then it withdraws it
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
        time the agent expects before its commit, from now and from its next boundary, and the
        context size its commit comes at (None: unknown, or the check is off), sent with a
        background preparation so the server can defer it (capacity.py, job_length.py);
        ``admitted`` hears the server's decision."""
        self.client, self.session_id = client, session_id
        self.before_send, self.session_lost = before_send, session_lost
        self.tail_of, self.windows, self.admitted = tail_of, windows, admitted
        self.started = 0               # preparations that sent a branch to the server
        self._background: set[asyncio.Task] = set()    # fire-and-forget promote and withdraw
                                                       # calls

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
            now_s, later_s, commit_tokens = (None, None, None) if window is None else window
            job.sent, job.sent_at, job.strategy_name = True, time.perf_counter(), strategy.name
            branch = await self.client.prepare(self.session_id, job.transform.messages,
                                               strategy.name, job.version,
                                               job.source_signature, wait=False,
                                               promote=job.lane is Lane.PROMOTED,
                                               window_s=now_s, later_window_s=later_s,
                                               commit_tokens=commit_tokens)
            job.answered.set()
            if "admission" in branch:
                decision = StartDecision(**branch["admission"])
                job.need_s = decision.need_s or None
                self.admitted(decision)
            if branch["outcome"] == "deferred":
                job.deferred(branch["reason"])    # nothing spent; the next boundary retries
                return
            self.started += 1
            if branch["outcome"] == "preparing":
                branch = await self.client.wait_branch(self.session_id, branch["id"])
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

    async def catch_up(self, job: Job, hold: bool = False) -> None:
        """Catch the branch up to the newest messages seen, in as few appends as possible.
        ``hold``: the commit is due (past the hard threshold), so the catch-up is held up to
        ``COMMIT_DUE_HOLD_S`` first; a commit that comes meanwhile prefills these segments in
        its own request (one foreground prefill, instead of a background one it queues behind
        and the rest after it); after tool time the catch-up is sent."""
        if hold:
            await job.wait_for_commit(COMMIT_DUE_HOLD_S)
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

    async def withdraw_undecided(self, job: Job) -> None:
        """A commit took the job: a prepare whose decision has not come back gets
        ``DECISION_GRACE_S`` for it, then is withdrawn (``withdraw``)."""
        if job.undecided:
            await job.wait_decided(DECISION_GRACE_S)
        if job.undecided:
            self.withdraw(job)

    def withdraw(self, job: Job) -> None:
        """The commit came before the server answered the job's prepare: stop waiting for it
        (the job is deferred: nothing was spent for it) and withdraw it on the server without
        waiting for that answer either: the prepare never registers, or its branch is abandoned
        with what it landed kept as cache for the commit request."""
        job.cancel()
        job.deferred("the server had not answered the prepare by the commit")
        self._spawn(self._withdraw(job.strategy_name, job.version))

    async def _withdraw(self, strategy: str, version: int) -> None:
        try:
            await self.client.withdraw(self.session_id, strategy, version,
                                       "withdrawn: the commit came before the answer")
        except (ServerError, ServerUnavailable) as exc:
            logger.info("session %s: withdraw of %s v%d failed: %s", self.session_id, strategy,
                        version, exc)

    def abandon(self, job: Job, reason: str) -> None:
        """Abandon the job's branch on the server (its KV freed) without waiting for the
        answer: the call waits for the scheduler's loop, and the agent's hook must not."""
        if job.branch_id:
            self._spawn(self._abandon(job.branch_id, reason))

    async def _abandon(self, branch_id: str, reason: str) -> None:
        try:
            await self.client.abandon(self.session_id, branch_id, reason)
        except (ServerError, ServerUnavailable) as exc:
            logger.info("session %s: abandon of branch %s failed: %s", self.session_id,
                        branch_id, exc)

    def _spawn(self, call) -> None:
        """Run ``call`` without waiting for it (held until done)."""
        task = asyncio.create_task(call)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

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
        if job.sent:
            self._spawn(self.promote())
