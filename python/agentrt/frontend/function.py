"""``@frontend.function``: attach a context policy to an SGLang frontend program.

    @frontend.function(strategy=Summarize(ContextBudget(3000), keep_tail_tokens=800))
    @sgl.function                       # optional: a plain function works too
    def agent(s, task): ...             # the body is unchanged

    state = agent.run(task="...", backend=AgentrtBackend(url))
    frontend.report(state).commits      # CommitRecords: ready / promoted / stale / fallback

The program declares its policy once; each run gets its own session and LookaheadRuntime, so
transformations are prepared in the background and committed by pointer at the turn that needs
them. ``agent.with_policy(lookahead=False)`` is the same program with the policy applied
synchronously (the baseline); ``capacity_aware=False`` prepares at the policy's threshold
whatever the server's load (``LookaheadRuntime``'s option). On a backend other than
AgentrtBackend (or under SGLang's tracer) the body runs as a plain SGLang program.
"""
from collections.abc import Callable

from sglang.lang.ir import SglFunction

from agentrt.frontend.program_state import AgentProgramState
from agentrt.lookahead.strategy import LookaheadStrategy

StrategySpec = LookaheadStrategy | Callable[[], LookaheadStrategy] | None


class AgentFunction(SglFunction):
    def __init__(self, body, strategy: StrategySpec = None, lookahead: bool = True,
                 program_id: str | None = None, num_api_spec_tokens=None,
                 bind_arguments=None, capacity_aware: bool = True):
        super().__init__(body, num_api_spec_tokens=num_api_spec_tokens,
                         bind_arguments=bind_arguments)
        self.body, self.strategy, self.lookahead = body, strategy, lookahead
        self.program_id, self.capacity_aware = program_id, capacity_aware
        self.func = self._run   # what SGLang's run_program calls with the run's state

    def _strategy(self) -> LookaheadStrategy | None:
        if self.strategy is None or isinstance(self.strategy, LookaheadStrategy):
            return self.strategy
        return self.strategy()

    def _run(self, s, *args, **kwargs):
        from agentrt.frontend.backend import AgentrtBackend

        executor = getattr(s, "stream_executor", None)
        backend = getattr(executor, "backend", None)
        if not isinstance(backend, AgentrtBackend):
            return self.body(s, *args, **kwargs)
        program = backend.start_program(executor, self.body.__name__, self._strategy(),
                                        self.lookahead, self.program_id, self.capacity_aware)
        try:
            return self.body(AgentProgramState(executor, program, main=True, owns=False),
                             *args, **kwargs)
        finally:
            backend.finish_program(executor, program)

    def with_policy(self, **changes) -> "AgentFunction":
        """The same body with other options (strategy, lookahead, program_id,
        capacity_aware)."""
        options = {"strategy": self.strategy, "lookahead": self.lookahead,
                   "program_id": self.program_id, "capacity_aware": self.capacity_aware,
                   **changes}
        return AgentFunction(self.body, num_api_spec_tokens=self.num_api_spec_tokens,
                             bind_arguments=self.bind_arguments, **options)

    def bind(self, **kwargs) -> "AgentFunction":
        """Overrides SglFunction.bind: keep the policy."""
        assert all(key in self.arg_names for key in kwargs)
        return AgentFunction(self.body, self.strategy, self.lookahead, self.program_id,
                             self.num_api_spec_tokens, {**self.bind_arguments, **kwargs},
                             self.capacity_aware)


def function(func=None, *, strategy: StrategySpec = None, lookahead: bool = True,
             program_id: str | None = None, capacity_aware: bool = True):
    """Decorator (with or without arguments), also applicable to an existing ``@sgl.function``
    program: ``frontend.function(program, strategy=...)``."""
    def wrap(f):
        if isinstance(f, AgentFunction):
            f = f.body
        elif isinstance(f, SglFunction):
            f = f.func
        return AgentFunction(f, strategy=strategy, lookahead=lookahead, program_id=program_id,
                             capacity_aware=capacity_aware)
    return wrap(func) if func is not None else wrap


def report(state):
    """The ProgramReport of a run (commits, tools, calls, notes), or None."""
    report_of = getattr(state.stream_executor.backend, "report_of", None)
    return report_of(state) if report_of is not None else None
