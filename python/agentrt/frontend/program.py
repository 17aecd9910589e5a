"""``AgentProgram``: one run of an ``@frontend.function`` program against an agentrt server.

It owns the run's session (opened when the run starts, or by the runtime at the first
boundary with the context's tokens; closed when the run ends: no KV is left behind), its
LookaheadRuntime (when the program declared a context policy) and its report. The
backend calls it around every model call of the program's main state; the program state calls
it around tool calls:

    tool_started   after the turn that asked for a tool: segment boundary (background
                   preparation starts / catches up while the tool runs) + KV pin for the tool
    tool_finished  after the tool message: segment boundary (catch-up)
    before_call    before gen / select: on_commit; if the runtime committed, the program's
                   text and messages are rewritten to the transformed context (the prepared KV
                   is a prefix of what the call sends); if not, messages closed since the last
                   boundary are reported (prepared while the model answers)
    after_call     the call's TTFT and cached tokens complete the record (and the commit's)

Forks carry the program id and a session id of their own that the server does not track, so
they never move the main context's head.
"""
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import NamedTuple

from agentrt.frontend.chat_format import as_interpreter_messages, chat_view, render
from agentrt.lookahead.loop_thread import LoopThread
from agentrt.frontend.program_client import ProgramClient
from agentrt.frontend.tool_call import ToolRecord
from agentrt.lookahead.client import ServerError, ServerUnavailable
from agentrt.lookahead.runtime import CommitRecord, LookaheadRuntime
from agentrt.lookahead.strategy import LookaheadStrategy

logger = logging.getLogger("agentrt.frontend")


class ProgramError(RuntimeError):
    """A program's model call failed (server error, lost connection); names the program."""


class CallRecord(NamedTuple):
    kind: str                    # gen | select
    prompt: str                  # the program text the call sent
    prompt_tokens: int | None
    cached_tokens: int | None
    ttft_s: float | None      # first chunk (gen) / whole call (select)
    commit: int | None = None  # index into ProgramReport.commits when this call committed
    output: str | None = None  # the generated text / the selected choice
    worker: str | None = None  # the worker that answered (behind SGLang's router)


@dataclass
class ProgramReport:
    program: str
    session_id: str
    program_id: str
    strategy: str | None
    lookahead: bool
    commits: list[CommitRecord] = field(default_factory=list)
    tools: list[ToolRecord] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    closed: bool = False


@dataclass
class CallTicket:
    kind: str
    prompt: str
    started: float
    commit: int | None


class AgentProgram:
    def __init__(self, name: str, client: ProgramClient, loop: LoopThread,
                 strategy: LookaheadStrategy | None, lookahead: bool = True,
                 program_id: str | None = None, session_id: str | None = None,
                 capacity_aware: bool = True):
        self.client, self.loop = client, loop
        self.session_id = session_id or f"program-{name}-{uuid.uuid4().hex[:10]}"
        self.program_id = program_id or self.session_id
        self.runtime = None
        if strategy is not None:
            self.runtime = LookaheadRuntime(client, strategy, session_id=self.session_id,
                                            enabled=lookahead, capacity_aware=capacity_aware)
        self.report = ProgramReport(name, self.session_id, self.program_id,
                                    strategy.name if strategy is not None else None,
                                    lookahead and strategy is not None)
        self._reported = 0          # messages already reported as segment boundaries
        self._lock = threading.Lock()
        if self.runtime is None:   # a runtime opens it at its first observation, with tokens
            self._open()

    # --- session life ---------------------------------------------------------------------------
    def _open(self) -> None:
        try:
            self.loop.run(self.client.open_session(self.session_id))
        except ServerError as exc:
            raise ProgramError(f"{self.report.program}: cannot open session "
                               f"{self.session_id!r}: {exc}") from exc
        except ServerUnavailable as exc:
            raise ProgramError(f"{self.report.program}: server unreachable: {exc}") from exc

    def close(self) -> None:
        """Cancel background work, abandon branches, drop pins, forget the session."""
        if self.report.closed:
            return
        self.report.closed = True
        try:
            if self.runtime is not None:
                self.loop.run(self.runtime.close(), timeout_s=60)
                if self.report.commits:   # closing settled the last commit's swap
                    self.report.commits = list(self.runtime.records)
            self.loop.run(self.client.close_session(self.session_id), timeout_s=60)
        except ServerError as exc:
            if exc.status != 404:       # already closed by the runtime: fine
                self.report.notes.append(f"close: {exc}")
        except ServerUnavailable as exc:
            self.report.notes.append(f"close: {exc}")

    # --- segment boundaries and tools -------------------------------------------------------------
    def _view(self, executor):
        view = chat_view(executor.text_, executor.messages_, executor.chat_template)
        if view is None and "not a chat" not in " ".join(self.report.notes):
            self.report.notes.append("program text is not a chat (text outside roles): "
                                     "its context policy is not applied")
        return view

    def boundary(self, executor) -> None:
        """Report newly closed messages (the executor is idle: the caller synced it)."""
        if self.runtime is None:
            return
        view = self._view(executor)
        if view is None or len(view.messages) <= self._reported:
            return
        with self._lock:
            self._reported = len(view.messages)
            self.loop.run(self.runtime.on_segment_boundary(view.messages))

    def tool_started(self, executor, name: str) -> bool | None:
        self.boundary(executor)
        try:
            return bool(self.loop.run(self.client.pin(self.session_id, name))["pinned"])
        except (ServerError, ServerUnavailable) as exc:
            self.report.notes.append(f"pin for {name}: {exc}")
            return None

    def tool_finished(self, executor, record: ToolRecord) -> None:
        self.report.tools.append(record)
        self.boundary(executor)

    # --- model calls ------------------------------------------------------------------------------
    def before_call(self, executor, kind: str) -> CallTicket:
        """Runs in the executor's worker thread, right before the request is built."""
        commit = None
        view = self._view(executor) if self.runtime is not None else None
        if view is not None:
            with self._lock:
                messages, commits = view.messages, len(self.runtime.records)
                result = self.loop.run(self.runtime.on_commit(messages))
                if len(self.runtime.records) > commits:
                    commit = len(self.runtime.records) - 1
                    self._rewrite(executor, view, result)
                    self._reported = len(result)
                elif len(messages) > self._reported:   # messages closed without a tool call
                    self._reported = len(messages)     # (prepared while the model answers)
                    self.loop.run(self.runtime.on_segment_boundary(messages))
        return CallTicket(kind, executor.text_, time.perf_counter(), commit)

    @staticmethod
    def _rewrite(executor, view, result) -> None:
        """The program continues from the transformed context: text and messages are replaced,
        the open role (text after the closed messages) is kept, positions shift with it."""
        head = render(result, executor.chat_template)
        shift = len(head) - view.closed_end
        executor.text_ = head + executor.text_[view.closed_end:]
        executor.messages_ = as_interpreter_messages(result)
        if executor.cur_role_begin_pos is not None:
            executor.cur_role_begin_pos += shift

    def after_call(self, ticket: CallTicket, meta: dict | None, ttft_s: float | None,
                   output: str | None = None, worker: str | None = None) -> None:
        meta = meta if isinstance(meta, dict) else {}
        cached = meta.get("cached_tokens")
        commit = None
        if ticket.commit is not None:
            self.runtime.log.measured(ticket.commit, ttft_s, cached)
            self.report.commits = list(self.runtime.records)
            commit = ticket.commit
        self.report.calls.append(CallRecord(ticket.kind, ticket.prompt, meta.get("prompt_tokens"),
                                            cached, ttft_s, commit, output, worker))
