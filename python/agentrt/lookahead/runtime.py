"""LookaheadRuntime: runs a strategy's transformation ahead of time and commits it by pointer.

The agent loop calls two hooks and changes nothing else:

    await runtime.on_segment_boundary(messages)   # after every model reply / tool observation
    messages = await runtime.on_commit(messages)  # before every model call; send what it returns

Between the soft and the hard threshold the runtime starts a Job (job.py): the Preparer
(preparation.py) snapshots the messages, computes the transform in a background task and
prepares the transformed prefix as a protected branch of the session (the server tokenizes it
with its chat template); each later segment is appended to the branch (catch-up). At the hard
threshold ``on_commit`` returns ``transformed + messages[segment_end:]`` and swaps the session
to the branch, so the model call that follows re-uses the whole prepared KV. Each commit writes
one CommitRecord (records.py: its Outcome and what completes it).

Rules:
- A commit never waits for a catch-up: the commit request prefills those last segments itself.
- The swap is sent beside the commit request, not awaited before it (the request's prefix match
  finds the branch either way). ``settle()`` (the next hook, ``chat()``, ``close()``) awaits it;
  a swap the server refused turns the record into a fallback.
- A preparation started right after a commit sends its prepare only once that swap has landed
  (a new branch of the same strategy would supersede the one being committed).
- A transform that changes nothing prepares and commits nothing (``noop_transforms``).
- Capacity-aware start (capacity.py): a background preparation sends its branch only when the
  server's idle time before the hard threshold fits its prefill, and not while the agent's next
  boundary would still leave ``LATER_MARGIN`` times the time it needs, nor while the jobs the
  server saw end that reached this one's length more often ended before the size its commit
  comes at (job_length.py; the prepare carries that size, the hard threshold); otherwise it is
  deferred (retried at the next boundary) and a commit with nothing prepared is recorded as
  ``deferred``.
- A commit that finds the transform done but its branch not sent yet does not send it: the
  commit request prefills the transformed context (``deferred``), one request instead of two.
  Nor does it wait for the server's decision on a prepare already sent: that answer comes at
  the scheduler's next loop, a forward step of seconds on a busy server. Past
  ``DECISION_GRACE_S`` the commit withdraws the prepare and goes on as ``deferred``; a prepare
  the server admitted is awaited (promoted).
  A preparation whose commit is due (past the hard threshold) before its branch is sent is
  held up to ``COMMIT_DUE_HOLD_S`` before it is sent (promoted): a commit that follows at once
  (no tool time in between) ends the hold and takes it that way; after tool time it is sent
  and ready by the commit (with ``capacity_aware=False`` it is sent at once). A catch-up due
  at such a boundary is held the same way: the commit that follows at once prefills those
  segments in its own request, not behind a background chunk of them.
- The session opens beside the agent's first model call, not before it (the open waits for the
  scheduler's loop); the next hook, or the first prepare, waits for its answer.
- With the capacity check on, no prepare or catch-up is sent while the agent's own model call
  (``chat``) is in flight: one due then waits for the call to return. The server would run the
  call first anyway; waiting keeps the background prefill off the agent's own turn, and a job
  that ends with that call (the agent's final answer) sends nothing. (A synchronous agent loop
  may send a prepare just before its call starts: the rule is best effort there.)
- Given the agent's step limit (``max_calls``, horizon.py), no preparation starts whose commit
  cannot come before the job's last model call, and a prepared branch whose commit no longer
  can is released at the boundary that shows it (once its prefill and catch-up ended), not at
  the session's close; ``ends_first`` counts those boundaries.
"""
import asyncio
import collections
import logging
import math
import time
import uuid
from typing import Awaitable, Callable, Optional

from agentrt.lookahead.capacity import IdleWindows, Pace, StartDecision
from agentrt.lookahead.client import AgentrtClient, ServerError, ServerUnavailable
from agentrt.lookahead.horizon import Horizon
from agentrt.lookahead.job import Job, JobState, Lane
from agentrt.lookahead.preparation import Preparer
from agentrt.lookahead.records import CommitLog, CommitRecord, Outcome
from agentrt.lookahead.strategy import (LLMCall, LookaheadStrategy, MainState, Message,
                                        Transform, TransformError, signature)

__all__ = ["CommitRecord", "JobState", "LookaheadRuntime", "Outcome"]

logger = logging.getLogger("agentrt.lookahead")
GROWTH_WINDOW = 4     # boundaries whose growth predicts the next one (their largest) and whose
                      # spacing predicts the agent's idle window


class LookaheadRuntime:
    def __init__(self, client: AgentrtClient, strategy: LookaheadStrategy,
                 session_id: Optional[str] = None, llm: Optional[LLMCall] = None,
                 enabled: bool = True,
                 count_tokens: Optional[Callable[[list[Message]], Awaitable[int]]] = None,
                 capacity_aware: bool = True, max_calls: Optional[int] = None):
        """``enabled=False`` is the baseline: the transform runs synchronously at commit, and no
        agentrt endpoint is used (works against plain SGLang with ``count_tokens`` given).
        ``capacity_aware=False`` starts every preparation at the strategy's threshold.
        ``max_calls``: the agent's step limit, the most model calls its job makes (None: not
        known); preparations whose commit cannot come before it are not started (horizon.py)."""
        self.client, self.strategy, self.enabled = client, strategy, enabled
        self.count_tokens = count_tokens
        self.session_id = session_id or f"agent-{uuid.uuid4().hex[:12]}"
        self.state = MainState([], 0)
        self.log = CommitLog()
        self.llm = llm or client.llm_call()
        self.noop_transforms = 0      # commits whose transform left the context as it was
        self.capacity_aware = capacity_aware
        self.deferred_starts = 0      # boundaries where a preparation was deferred (capacity)
        self.start_decisions: collections.deque = collections.deque(maxlen=64)  # the capacity
                                      # check's StartDecisions, oldest first
        self._deferred: Optional[str] = None   # why, since the last commit
        self._best_fit: Optional[float] = None  # lowest need / idle checked since the last commit
        self._declined = False                  # a check declined a start since the last commit
        self._pace = Pace(GROWTH_WINDOW)
        self._horizon = Horizon(max_calls)
        self.ends_first = 0           # boundaries where the step limit ruled a preparation out
        self._job: Optional[Job] = None
        self._versions = 0
        self._lock = asyncio.Lock()
        self._session_open = False
        self._opening: Optional[asyncio.Task] = None    # the session's open, in flight
        self._swap: Optional[tuple[asyncio.Task, int]] = None   # the last commit's pointer
                                                                # swap, its record's index
        self._calls = 0                          # the agent's model calls in flight (``chat``)
        self._no_call = asyncio.Event()          # set while none is
        self._no_call.set()
        self._preparer = Preparer(client, self.session_id, self._before_send,
                                  self._session_lost, self._final_tail, self._windows,
                                  self._admitted)

    @property
    def records(self) -> list[CommitRecord]:
        """One record per commit, oldest first (completed by ``log``)."""
        return self.log.records

    @property
    def job_state(self) -> JobState:
        """Where the current preparation stands (IDLE: none)."""
        return self._job.state if self._job is not None else JobState.IDLE

    @property
    def preparations_started(self) -> int:
        """Background preparations started so far (committed or not: the rest were wasted)."""
        return self._preparer.started

    # --- the two hooks -----------------------------------------------------------------------
    async def on_segment_boundary(self, messages: list[Message]) -> None:
        async with self._lock:
            await self.settle()
            self._boundary_passed()
            await self._observe(messages)
            if not self.enabled:
                return
            if self._job is not None and self._job.state is JobState.DEFERRED:
                self._job = None
            job = self._job
            if job is None:
                if self._should_prepare():
                    self._start(messages)
                return
            if job.state is JobState.FAILED:
                return
            if not self._commit_reachable():
                self._drop(job)           # (no catch-up for a commit that cannot come)
                return
            job.held |= self._commit_due()         # (read by a prepare not sent yet)
            if job.lane is Lane.BACKGROUND and self.strategy.should_promote(self.state):
                self._preparer.promote_early(job)
            if len(messages) > job.covered:
                # catch-up: one append for everything new, after the running preparation
                # (which starts it itself when it ends)
                job.latest = list(messages)
                if not job.busy and job.wants_catch_up():
                    job.catch_up = asyncio.create_task(
                        self._preparer.catch_up(job, hold=self._commit_due()))

    async def on_commit(self, messages: list[Message]) -> list[Message]:
        async with self._lock:  # two racing commits are serialised; the second sees the result
            await self.settle()
            self._horizon.call()
            await self._observe(messages)
            if not self.strategy.should_commit(self.state):
                return messages
            started = time.perf_counter()
            job, self._job = self._job, None
            result, record = await self._commit(job, messages)
            if record is None:   # the transform changed nothing: no commit
                self.noop_transforms += 1
                return messages
            index = self.log.add(record._replace(waited_s=time.perf_counter() - started,
                                                 best_fit=self._best_fit, **_lead(job, started)))
            self._deferred = self._best_fit = None
            self._declined = False
            if record.outcome.swapped:
                self._swap = (asyncio.create_task(self._send_swap(job)), index)
            await self._observe(result)
            if self.enabled and self._should_prepare():
                # still past the soft threshold after the commit: prepare the next transform
                # now, not one segment later (else the next call may commit with nothing ready)
                self._start(result)
            return result

    async def chat(self, messages: list[Message], **kw):
        """The model call, tagged with this session; the first call after a commit completes that
        commit's record with its TTFT and cached tokens. While it is in flight, background
        sends wait (``_before_send``)."""
        self._calls += 1
        self._no_call.clear()
        try:
            result = await self.client.chat(messages, session_id=self.session_id, **kw)
        finally:
            self._calls -= 1
            if not self._calls:
                self._no_call.set()
        await self.settle()
        self.log.request_sent(result.ttft_s, result.cached_tokens)
        return result

    async def settle(self) -> None:
        """Wait for the session's open and the last commit's pointer swap; a swap the server
        refused (e.g. it lost the branch) makes that commit's record a fallback."""
        await self._opened()
        swap, self._swap = self._swap, None
        if swap is None:
            return
        task, index = swap
        error, background_tokens = await asyncio.shield(task)
        if error is not None:
            self.log.refused(index, error)
        else:
            self.log.swapped(index, background_tokens)

    async def wait_prepared(self) -> None:
        """Wait until the running preparation and its catch-up are done (what tool time
        would give them); returns at once when none runs."""
        job = self._job
        while job is not None and job.busy:
            pending = [t for t in (job.task, job.catch_up) if t is not None and not t.done()]
            await asyncio.gather(*pending, return_exceptions=True)

    async def close(self) -> None:
        await self.settle()
        job, self._job = self._job, None
        if job is not None:
            job.cancel()
        if self._session_open:
            try:
                await self.client.close_session(self.session_id)
            except (ServerError, ServerUnavailable):
                pass
            self._session_open = False

    # --- observing the context ---------------------------------------------------------------
    def _windows(self) -> Optional[IdleWindows]:
        """The idle time this agent expects before its commit (capacity.py), sent with a
        background preparation; None when the capacity check is off or the pace unknown."""
        if not self.capacity_aware:
            return None
        return self._pace.windows(self.strategy.budget.hard_tokens)

    def _commit_due(self) -> bool:
        """The commit is due at the next model call (with the capacity check on: a prepare not
        sent yet waits a beat for it; ``capacity_aware=False`` always prepares)."""
        return self.capacity_aware and self.strategy.should_commit(self.state)

    def _admitted(self, decision: StartDecision) -> None:
        """The server's capacity decision on a preparation: counted, and a deferral is
        remembered for the commit's record."""
        self._deferred = None if decision.start else decision.reason
        self._declined |= not decision.start
        self.deferred_starts += not decision.start
        if decision.need_s > 0:
            fit = decision.need_s / decision.idle_s if decision.idle_s > 0 else math.inf
            self._best_fit = fit if self._best_fit is None else min(self._best_fit, fit)
        self.start_decisions.append(decision)
        logger.info("session %s: lookahead %s (%s)", self.session_id,
                    "starts" if decision.start else "deferred", decision.reason)

    def _boundary_passed(self) -> None:
        """The agent's pace: wall time between its boundaries (tools and its model calls)."""
        self._pace.tick(time.perf_counter())
        self._horizon.boundary()

    def _commit_reachable(self) -> bool:
        """The context can still reach the hard threshold before the job's last model call
        (horizon.py; always, without a step limit)."""
        return self._horizon.commit_reachable(self.state.tokens,
                                              self.strategy.budget.hard_tokens,
                                              self._pace.long_run_growth)

    def _should_prepare(self) -> bool:
        """Start a preparation now: the strategy wants one and its commit can still come."""
        if not self.strategy.should_lookahead(self.state):
            return False
        if self._commit_reachable():
            return True
        self.ends_first += 1
        return False

    async def _observe(self, messages: list[Message]) -> None:
        try:
            await self._count(messages)
        finally:   # segment growth for ``MainState.growth`` (a commit's shrink is not one)
            self._pace.count(self.state.tokens)
            self.state.growth = self._pace.largest_growth

    async def _count(self, messages: list[Message]) -> None:
        self.state.messages = messages
        # the session is opened with its context, tokenized by the server; a baseline runtime
        # (``enabled=False``) given ``count_tokens`` uses no agentrt endpoint at all
        opening = not self._session_open and self._opening is None and \
            (self.enabled or self.count_tokens is None)
        if self.count_tokens is not None and not opening:
            self.state.tokens = await self.count_tokens(messages)
            return
        try:
            tokens = await self.client.tokenize(messages, session_id=self.session_id)
        except ServerUnavailable:
            self.state.tokens = sum(len(m.get("content") or "") for m in messages) // 4
            self._session_open = False
            return
        self.state.tokens = len(tokens) if self.count_tokens is None \
            else await self.count_tokens(messages)
        if opening:
            self._opening = asyncio.create_task(self._open_session(tokens))

    async def _open_session(self, tokens: list[int]) -> None:
        """Open the session with its context, beside the agent's next model call (the open waits
        for the scheduler's loop, a forward pass on a busy server; a request of a session not
        open yet is served as any request). ``_opened`` (the next hook, or a prepare) takes the
        result."""
        try:
            await self.client.open_session(self.session_id, tokens)
        except ServerError as exc:
            if exc.status != 409:       # 409: already open (e.g. a second runtime object)
                raise

    async def _opened(self) -> None:
        """Take the result of a session open sent earlier: open, or (the server unreachable)
        not open and retried at the next boundary; any other refusal is raised to the agent."""
        opening, self._opening = self._opening, None
        if opening is None:
            return
        try:
            await asyncio.shield(opening)
            self._session_open = True
        except ServerUnavailable:
            self._session_open = False

    def _session_lost(self) -> None:
        self._session_open = False       # the server restarted: reopen at the next boundary

    # --- preparing and committing --------------------------------------------------------------
    def _start(self, messages: list[Message]) -> None:
        self._versions += 1
        end = self.strategy.segment_end(messages)
        job = Job(self._versions, end, signature(messages, end), held=self._commit_due(),
                  earliest=not self._declined)
        if self.strategy.should_promote(self.state):
            job.promote()
        self._preparer.start(job, list(messages), self.strategy,
                             dict(self.state.strategy_data), self.llm)
        self._job = job

    def _drop(self, job: Job) -> None:
        """The job ends before this preparation's commit can come: its branch is abandoned now
        (the server frees its KV), not at the session's close. A preparation or catch-up
        still running is left to end; a later boundary drops it."""
        if job.busy:
            return
        self._job = None
        self.ends_first += 1
        self._preparer.abandon(job, "the job ends before its commit (step limit)")

    async def _before_send(self) -> None:
        """What a background send (a prepare or a catch-up) waits for: the session's open, the
        last commit's swap (a new branch of the same strategy would supersede the one being
        committed) and, with the capacity check on, the agent's own model call in flight."""
        if self._opening is not None:       # a prepare needs the session open
            await asyncio.shield(self._opening)
        if self._swap is not None:
            await asyncio.shield(self._swap[0])
        if self.capacity_aware:
            await self._no_call.wait()

    async def _commit(self, job: Optional[Job], messages: list[Message]):
        """(result messages, CommitRecord or None when the transform changed nothing)."""
        if job is not None and job.source_signature == signature(messages, job.segment_end):
            return await self._commit_prepared(job, messages)
        if job is not None:
            job.stale()
            job.cancel()
            await self._release(job, "source prefix changed", stale=True)
            return await self._commit_synchronously(
                messages, Outcome.STALE, "source prefix changed since the snapshot")
        if not self.enabled:
            return await self._commit_synchronously(messages, Outcome.SYNC, "lookahead disabled")
        if self._deferred is not None:
            return await self._commit_synchronously(messages, Outcome.DEFERRED,
                                                    f"deferred: {self._deferred}")
        return await self._commit_synchronously(messages, Outcome.FALLBACK,
                                                "no lookahead was started")

    async def _commit_prepared(self, job: Job, messages: list[Message]):
        """The job prepared this prefix: swap to what is prepared now (a catch-up still running
        is left behind). A preparation still running is awaited, its branch promoted if it was
        sent (one not sent yet never is: the commit takes its transform); one whose branch was
        deferred (or never sent) commits its transform synchronously."""
        job.commit()
        await self._preparer.withdraw_undecided(job)   # no wait of a scheduler step for it
        promoted = job.preparing and job.state is JobState.COMMITTING
        if promoted:
            self._preparer.promote_sent(job)
            await job.task
        if job.state is JobState.DEFERRED and not job.reason:
            # its snapshot's transform changed nothing (a boundary that came before it ended
            # started no fresh one); what arrived since may change the context's: the commit
            # transforms it synchronously (no record when that changes nothing either)
            return await self._commit_synchronously(messages, Outcome.FALLBACK,
                                                    "the snapshot's transform changed nothing")
        if job.transform is None:
            if job.state is JobState.DEFERRED:
                return await self._commit_synchronously(messages, Outcome.DEFERRED,
                                                        f"deferred: {job.reason}")
            return await self._commit_synchronously(messages, Outcome.FALLBACK,
                                                    job.reason or "no transform")
        try:
            tail = await self._tail(job, messages)
        except TransformError as exc:
            await self._release(job, "not committed")
            return await self._commit_synchronously(messages, Outcome.FALLBACK,
                                                    f"transform of the tail failed: {exc}")
        result = job.transform.messages + tail.messages
        self.state.strategy_data = tail.strategy_data
        name, end = self.strategy.name, job.segment_end
        if job.state is JobState.COMMITTING and job.branch_id:
            logger.debug("session %s: commit swaps to branch %s (%d tokens, %d messages "
                         "covered of %d)", self.session_id, job.branch_id, job.branch_len,
                         job.covered, len(messages))
            job.swapped()     # on_commit sends the swap (``_send_swap``) beside the request
            outcome = Outcome.PROMOTED if promoted else Outcome.READY
            return result, CommitRecord(outcome, name, job.branch_len, 0.0,
                                        segment_end=end)
        await self._release(job, "not committed")
        if job.state is JobState.DEFERRED:   # transformed, nothing prefilled: the commit
            return result, CommitRecord(Outcome.DEFERRED, name, 0, 0.0,  # request prefills it
                                        f"deferred: {job.reason}", segment_end=end)
        return result, CommitRecord(Outcome.FALLBACK, name, 0, 0.0,
                                    job.reason or "branch not prepared", segment_end=end)

    async def _tail(self, job: Job, messages: list[Message]) -> Transform:
        """The segments after the job's snapshot as the commit appends them: the final part
        (``_final_tail``) and the rest as it is, so a prepared commit of a segment-local
        strategy is exactly the synchronous transform."""
        final = await self._final_tail(job, messages)
        return Transform(final.messages + list(messages[self._final_end(job, messages):]),
                         final.strategy_data)

    async def _final_tail(self, job: Job, messages: list[Message]) -> Transform:
        """The segments after the job's snapshot up to ``_final_end``, as every later commit
        holds them: transformed when the strategy is segment-local, else as they are. This is
        what catch-ups append, so the branch stays a prefix of the commit's context."""
        done = list(messages[job.segment_end:self._final_end(job, messages)])
        if not done or not self.strategy.segment_local:
            return Transform(done, job.transform.strategy_data)
        return await self.strategy.transform(done, job.transform.strategy_data, self.llm)

    def _final_end(self, job: Job, messages: list[Message]) -> int:
        """Where the messages whose committed form can no longer change end: the strategy's
        segment end for a segment-local strategy (e.g. clearing all but the last N tool
        outputs: the N-th most recent one may still be kept), every message otherwise."""
        if not self.strategy.segment_local:
            return len(messages)
        return max(job.segment_end, self.strategy.segment_end(messages))

    async def _commit_synchronously(self, messages: list[Message], outcome: Outcome,
                                    reason: str):
        end = self.strategy.segment_end(messages)
        result = await self._synchronous(messages)
        if result == messages and result is not messages:
            return messages, None        # the transform succeeded and changed nothing
        return result, CommitRecord(outcome, self.strategy.name, 0, 0.0, reason,
                                    segment_end=end)

    async def _synchronous(self, messages: list[Message]) -> list[Message]:
        """The transform on the critical path (``strategy.apply``); if even that fails, the
        context is kept as is (``messages`` itself is returned; a successful transform returns
        a new list)."""
        try:
            t = await self.strategy.apply(messages, dict(self.state.strategy_data), self.llm)
        except TransformError as exc:
            logger.warning("synchronous transform failed (%s); keeping the context", exc)
            return messages
        self.state.strategy_data = t.strategy_data
        return t.messages

    async def _send_swap(self, job: Job) -> tuple[Optional[str], Optional[int]]:
        """The commit's pointer swap (sent beside the commit request): (the error, if any; the
        tokens the server prefilled for the branch)."""
        try:
            answer = await self.client.commit(self.session_id, job.branch_id)
            return None, answer.get("background_tokens")
        except (ServerError, ServerUnavailable) as exc:
            await self._release(job, "not committed")
            return f"commit failed: {exc}", None

    async def _release(self, job: Job, reason: str, stale: bool = False) -> None:
        """Release a branch the commit does not use (the server would also, under pressure); a
        branch whose source changed is released as stale."""
        if job.branch_id:
            release = self.client.mark_stale if stale else self.client.abandon
            try:
                await release(self.session_id, job.branch_id, reason)
            except (ServerError, ServerUnavailable):
                pass


def _lead(job: Optional[Job], commit_at: float) -> dict:
    """A commit record's ``lead_s`` and ``need_s``: for a preparation sent at its earliest."""
    if job is None or not job.earliest or job.sent_at is None:
        return {}
    return {"lead_s": commit_at - job.sent_at, "need_s": job.need_s}
