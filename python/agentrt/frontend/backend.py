"""``AgentrtBackend``: SGLang's ``RuntimeEndpoint`` for agentrt servers.

What it adds to every program run on it (a subclass; SGLang's request building is reused):
  - tags: every /generate body carries the run's ``session_id`` and ``program_id``
    (``_add_images`` is where RuntimeEndpoint hands each body over right before sending it);
  - lookahead: around each model call of an ``@frontend.function`` program, its AgentProgram
    reports boundaries and commits (``program.py``); the call then sends the transformed context;
  - TTFT: a plain gen is sent streaming (same tokens) so the first chunk's time is measured;
  - a chat template matching the served one token for token (probed), with a ``tool`` role;
  - behind SGLang's router (base URL answers 404 on ``/agentrt/info``): every request of a run
    carries ``X-SMG-Routing-Key`` = the run's session id (forks and select's choices too: one
    worker holds the whole program); the worker each answer names is the session's home
    (``ProgramClient.arrived``), where the control calls go; a session that moved is reopened
    on its new worker and noted in the report (``routed_transport.py`` sends the requests).
    On one server without a router nothing of this runs: requests go out as SGLang sends them.
Programs written with plain ``@sgl.function`` run unchanged (tags only, no session; behind a
router their executor id is their routing key).
"""
import logging
import time
from collections import OrderedDict

from sglang.lang.backend.runtime_endpoint import RuntimeEndpoint
from sglang.lang.chat_template import ChatTemplate, get_chat_template

from agentrt.frontend import routed_transport
from agentrt.frontend.chat_format import render, with_tool_role
from agentrt.frontend.program import AgentProgram, ProgramReport
from agentrt.frontend.program_client import ProgramClient
from agentrt.frontend.routed_transport import Route
from agentrt.lookahead.client import ServerError, ServerUnavailable
from agentrt.lookahead.loop_thread import LoopThread
from agentrt.lookahead.strategy import LookaheadStrategy
from agentrt.server.launch import plugin

logger = logging.getLogger("agentrt.frontend")

PROBE = [{"role": "system", "content": "You are a probe."},
         {"role": "user", "content": "Hello there."},
         {"role": "assistant", "content": "Hi."},
         {"role": "tool", "content": "output 1"}]
KEEP_REPORTS = 256


class AgentrtBackend(RuntimeEndpoint):
    def __init__(self, base_url: str, chat_template_name: str | None = None,
                 timeout_s: float = 600.0, **kw):
        problems = plugin.check_seams(plugin.FRONTEND_SEAMS)
        if problems:
            raise RuntimeError(plugin.describe(problems))
        super().__init__(base_url.rstrip("/"), chat_template_name=chat_template_name, **kw)
        self.timeout_s = timeout_s
        self.loop = LoopThread("agentrt-frontend")
        self.client = self.loop.run(self._make_client(timeout_s))
        self.routed = self.loop.run(self.client.routed())   # behind SGLang's router?
        if self.routed:
            routed_transport.install()
        if chat_template_name is None:
            self.chat_template = self._served_template()
        self.chat_template = with_tool_role(self.chat_template)
        self.client.template = self.chat_template
        self.programs: dict[str, AgentProgram] = {}      # executor sid -> run (main state)
        self.forks: dict[str, AgentProgram] = {}         # executor sid -> run it forked from
        self.reports: OrderedDict[str, ProgramReport] = OrderedDict()

    async def _make_client(self, timeout_s: float) -> ProgramClient:
        return ProgramClient(self.base_url, self.chat_template, timeout_s)

    # --- chat template ----------------------------------------------------------------------------
    def _served_template(self) -> ChatTemplate:
        """The frontend template whose rendering tokenizes exactly like the served template
        (SGLang picks one by model path; a local model folder usually matches none). Asked of
        a worker (behind the router: the one it places the probe on)."""
        want = self.loop.run(self.client.served_tokens(PROBE), timeout_s=60)
        for candidate in (self.chat_template, get_chat_template("chatml")):
            text = render(PROBE, with_tool_role(candidate))
            if self.loop.run(self.client.tokenize_text(text), timeout_s=60) == want:
                return candidate
        logger.warning("no frontend chat template reproduces the served one; using %r",
                       self.chat_template.name)
        return self.chat_template

    # --- program runs -----------------------------------------------------------------------------
    def start_program(self, executor, name: str, strategy: LookaheadStrategy | None,
                      lookahead: bool = True, program_id: str | None = None,
                      capacity_aware: bool = True) -> AgentProgram:
        program = AgentProgram(name, self.client, self.loop, strategy, lookahead, program_id,
                               capacity_aware=capacity_aware)
        self.programs[executor.sid] = program
        return program

    def adopt_fork(self, program: AgentProgram, executor) -> None:
        self.forks[executor.sid] = program

    def finish_program(self, executor, program: AgentProgram) -> ProgramReport:
        """Wait for the run's queued expressions, then close its session."""
        try:
            executor.sync()
        finally:
            program.close()
            if executor.error_ is not None:
                program.report.notes.append(f"program error: {executor.error_}")
            if program.runtime is not None:
                program.report.commits = list(program.runtime.records)
            self.programs.pop(executor.sid, None)
            self.reports[executor.sid] = program.report
            while len(self.reports) > KEEP_REPORTS:
                self.reports.popitem(last=False)
        return program.report

    def report_of(self, state) -> ProgramReport | None:
        sid = state.stream_executor.sid
        program = self.programs.get(sid)
        return program.report if program is not None else self.reports.get(sid)

    def end_program(self, s):
        """Overrides BaseBackend.end_program (an executor ended): forget fork tags."""
        for executor in s if isinstance(s, list) else [s]:
            self.forks.pop(executor.sid, None)
        super().end_program(s)

    def shutdown(self):
        """Overrides BaseBackend.shutdown: close the client and the loop thread."""
        try:
            self.loop.run(self.client.close(), timeout_s=10)
        finally:
            self.loop.close()
        super().shutdown()

    # --- where a run's requests go -------------------------------------------------------------
    def _route_of(self, s) -> Route | None:
        """Behind the router: the routing key of executor ``s``'s requests (its run's session;
        a plain program's own executor id); None on one server."""
        if not self.routed:
            return None
        program = self.programs.get(s.sid) or self.forks.get(s.sid)
        if program is None:
            return Route(s.sid, self.timeout_s)
        return Route(program.session_id, self.timeout_s,
                     lambda headers: self._arrived(program, headers))

    def _routing(self, s):
        return routed_transport.routing(self._route_of(s))

    def _arrived(self, program: AgentProgram, headers) -> None:
        """An answer of the run came through the router: its worker is the session's home; a
        move (the old home vanished) reopens the session there and is noted, never raised."""
        try:
            move = self.loop.run(self.client.arrived(program.session_id, headers),
                                 timeout_s=self.timeout_s)
        except (ServerError, ServerUnavailable) as exc:
            program.report.notes.append(f"reopening the session on its new worker: {exc}")
            return
        if move is not None:
            program.report.notes.append(f"session moved from {move.old} to {move.new} "
                                        "(reopened there: a cache miss)")

    # --- requests ---------------------------------------------------------------------------
    def _add_images(self, s, data):
        """Overrides RuntimeEndpoint._add_images, which every request of a program passes through
        right before it is sent: the tags go on here."""
        super()._add_images(s, data)
        main, fork = self.programs.get(s.sid), self.forks.get(s.sid)
        program = main or fork
        if program is None:
            return
        data["program_id"] = program.program_id
        ids = data.get("input_ids")
        batch = isinstance(data.get("text"), list) or (
            isinstance(ids, list) and bool(ids) and isinstance(ids[0], list))
        if main is not None and not batch:
            data["session_id"] = program.session_id
        else:   # forks and batches (select's choices) must not move the main context's head
            data["session_id"] = f"{program.session_id}/{'fork' if fork else 'batch'}-{s.sid[:8]}"

    def _call(self, s, kind: str, send, output):
        program = self.programs.get(s.sid)
        if program is None:
            with self._routing(s):
                return send()[0]
        ticket = program.before_call(s, kind)
        route = self._route_of(s)
        with routed_transport.routing(route):
            result, meta, ttft = send()
        program.after_call(ticket, meta, ttft if ttft is not None
                           else time.perf_counter() - ticket.started, output(result),
                           route.worker if route is not None else None)
        return result

    def generate(self, s, sampling_params):
        """Overrides RuntimeEndpoint.generate: lookahead around the call; sent streaming for
        TTFT unless logprobs were asked for (streamed logprobs arrive in pieces)."""
        def send():
            if getattr(sampling_params, "return_logprob", None):
                comp, meta = super(AgentrtBackend, self).generate(s, sampling_params)
                return (comp, meta), meta, None
            started, first, pieces, meta = time.perf_counter(), None, [], {}
            try:
                for piece, meta in super(AgentrtBackend, self).generate_stream(s,
                                                                               sampling_params):
                    first = first or time.perf_counter()
                    pieces.append(piece)
            except KeyError as exc:   # SGLang streams a refused request as an error chunk
                if pieces:
                    raise RuntimeError("the server ended the stream with an error") from exc
                comp, meta = super(AgentrtBackend, self).generate(s, sampling_params)  # its
                return (comp, meta), meta, None                    # error, with the message
            ttft = (first or time.perf_counter()) - started
            return ("".join(pieces), meta), meta, ttft
        return self._call(s, "gen", send, lambda result: result[0])

    def generate_stream(self, s, sampling_params):
        """Overrides RuntimeEndpoint.generate_stream: lookahead before the call; behind the
        router each step of the stream is read inside the routing scope (never across a yield)."""
        program = self.programs.get(s.sid)
        ticket = program.before_call(s, "gen") if program is not None else None
        route = self._route_of(s)
        stream = super().generate_stream(s, sampling_params)
        if route is not None:
            stream = routed_transport.each_step_routed(route, stream)
        first, meta, pieces = None, {}, []
        for piece, meta in stream:
            first = first or time.perf_counter()
            pieces.append(piece)
            yield piece, meta
        if ticket is not None:
            program.after_call(ticket, meta, (first or time.perf_counter()) - ticket.started,
                               "".join(pieces), route.worker if route is not None else None)

    def select(self, s, choices, temperature, choices_method):
        """Overrides RuntimeEndpoint.select: lookahead before the call (TTFT = whole call)."""
        def send():
            decision = super(AgentrtBackend, self).select(s, choices, temperature,
                                                          choices_method)
            return decision, None, None
        return self._call(s, "select", send, lambda decision: decision.decision)

    def commit_lazy_operations(self, s):
        """Overrides RuntimeEndpoint.commit_lazy_operations: with the run's routing key."""
        with self._routing(s):
            super().commit_lazy_operations(s)

    def fill_image(self, s):
        """Overrides RuntimeEndpoint.fill_image: with the run's routing key."""
        with self._routing(s):
            super().fill_image(s)
