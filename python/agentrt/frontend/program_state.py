"""``AgentProgramState``: the ``s`` an ``@frontend.function`` body receives.

A ``ProgramState`` subclass on the run's own executor: everything SGLang's state does works
unchanged (``s += ...``, roles, ``s["var"]``, ``fork``, ``copy``); it adds
  - ``s += tool_call(...)``: runs the tool in the program's thread, between two segment
    boundaries, and appends its output as a ``tool`` message (tool_call.py);
  - forks that carry the program's tags (and can call tools);
  - ``s["var"]`` raising ProgramError with the failed call's error instead of a KeyError.
"""
import time

from sglang.lang.interpreter import ProgramState, ProgramStateGroup
from sglang.lang.ir import SglConstantText, SglExprList, SglRoleBegin, SglRoleEnd

from agentrt.frontend.program import AgentProgram, ProgramError
from agentrt.frontend.tool_call import ToolCall, run_tool


class AgentProgramState(ProgramState):
    def __init__(self, stream_executor, program: AgentProgram, main: bool, owns: bool):
        super().__init__(stream_executor)
        self.program, self.main, self._owns = program, main, owns

    def __del__(self):
        """Overrides ProgramState.__del__: only a state that owns its executor ends it (the main
        state's executor belongs to SGLang's own ProgramState for the run)."""
        if self._owns:
            super().__del__()

    def __iadd__(self, other):
        if isinstance(other, ToolCall):
            self._run_tool(other)
            return self
        return super().__iadd__(other)

    def _run_tool(self, call: ToolCall) -> None:
        executor = self.stream_executor
        executor.sync()                  # the turn that asked for the tool is complete
        self._raise_if_failed(f"tool {call.name!r}")
        if executor.cur_role is not None:
            raise ProgramError(f"tool_call({call.name!r}) inside an open {executor.cur_role!r} "
                               "role: close the role first")
        pinned = self.program.tool_started(executor, call.name) if self.main else None
        output, record = run_tool(call)
        super().__iadd__(SglExprList([SglRoleBegin("tool"), SglConstantText(output),
                                      SglRoleEnd("tool")]))
        executor.sync()
        record = record._replace(pinned=pinned)
        if self.main:
            self.program.tool_finished(executor, record)
        else:
            self.program.report.tools.append(record)

    def _raise_if_failed(self, what: str) -> None:
        error = self.stream_executor.error_
        if error is not None:
            raise ProgramError(f"program {self.program.report.program!r} (session "
                               f"{self.program.session_id}) failed before {what}: {error}") \
                from error

    def get_var(self, name):
        """Overrides ProgramState.get_var: a failed call raises ProgramError, not KeyError."""
        try:
            return super().get_var(name)
        except KeyError:
            executor = self.stream_executor
            deadline = time.monotonic() + 5   # the worker sets error_ just after the events
            while executor.error_ is None and time.monotonic() < deadline and \
                    not executor.is_finished:
                time.sleep(0.01)
            self._raise_if_failed(f"{name!r} was set")
            raise

    def fork(self, size: int = 1, position_ids_offset=None):
        """Overrides ProgramState.fork: the forks are AgentProgramStates carrying the tags."""
        executors = self.stream_executor.fork(size, position_ids_offset)
        backend = self.stream_executor.backend
        for executor in executors:
            backend.adopt_fork(self.program, executor)
        return ProgramStateGroup([AgentProgramState(e, self.program, main=False, owns=True)
                                  for e in executors], self)
