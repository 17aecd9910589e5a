"""Preparer: the background half of a Job (transform -> tokenize -> prepare, then catch-ups).

It runs as tasks on the runtime's event loop and reports every result to the Job through its
events (job.py); it never decides a commit. Every server error becomes a failed job, never an
exception in the agent's loop.
"""
import asyncio
from typing import Awaitable, Callable

from agentrt.lookahead.client import ServerError, ServerUnavailable
from agentrt.lookahead.capacity import StartDecision
from agentrt.lookahead.job import Job, JobState, Lane
from agentrt.lookahead.strategy import (LLMCall, LookaheadStrategy, Message, Transform,
                                        TransformError)


class Preparer:
    def __init__(self, client, session_id: str, before_prepare: Callable[[], Awaitable[None]],
                 session_lost: Callable[[], None],
                 tail_of: Callable[[Job, list[Message]], Awaitable[Transform]],
                 admit: Callable[[list[int]], Awaitable[StartDecision]]):
        """``before_prepare`` is awaited right before a prepare request is sent (the last
        commit's swap must land first); ``session_lost`` is called when the server no longer
        knows the session (it restarted); ``tail_of`` gives the segments after the job's
        snapshot as a catch-up appends them: the part whose committed form is final (the
        runtime's one rule for it); ``admit``
        decides whether a background preparation of these tokens fits the server's idle time
        (capacity.py)."""
        self.client, self.session_id = client, session_id
        self.before_prepare, self.session_lost = before_prepare, session_lost
        self.tail_of, self.admit = tail_of, admit
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
            tokens = await self.client.tokenize(job.transform.messages,
                                                  session_id=self.session_id)
            if job.state is JobState.PREPARING and job.lane is Lane.BACKGROUND:
                decision = await self.admit(tokens)
                if not decision.start:
                    job.deferred(decision.reason)    # nothing spent; the next boundary retries
                    return
            await self.before_prepare()
            self.started += 1
            branch = await self.client.prepare(self.session_id, tokens, strategy.name,
                                               job.version, job.source_signature, wait=True,
                                               promote=job.lane is Lane.PROMOTED)
            if branch["state"] != "ready":
                job.failed(f"branch {branch['id']} is {branch['state']}")
                return
            job.prepared(branch["id"], tokens)
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
            await self._append(job, job.latest)

    async def _append(self, job: Job, messages: list[Message]) -> None:
        """Append the segments that arrived since the branch was prepared."""
        try:
            tail = (await self.tail_of(job, messages)).messages
            tokens = await self.client.tokenize(job.transform.messages + tail,
                                                session_id=self.session_id)
            if tokens[:len(job.branch_tokens)] != job.branch_tokens:
                job.failed("catch-up tokens do not extend the branch")
                return
            extra = tokens[len(job.branch_tokens):]
            if extra:
                branch = await self.client.append(self.session_id, job.branch_id, extra)
                if branch["state"] != "ready" or branch["catching_up"]:
                    job.failed(f"catch-up left branch {job.branch_id} {branch['state']}")
                    return
                if branch["tokens"] != len(tokens):
                    job.behind()     # the server cancelled it (e.g. preempted): ready as it was
                    return
            job.caught_up(tokens, len(messages))
        except (ServerError, ServerUnavailable, TransformError) as exc:
            job.failed(f"catch-up failed: {exc}")

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
        if not job.busy:
            return
        task = asyncio.create_task(self.promote())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
