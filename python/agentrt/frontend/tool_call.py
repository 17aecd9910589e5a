"""Tool calls inside programs: a small, explicit construct.

    s += frontend.tool_call("grep", grep, {"pattern": "ContextBudget"})

    @frontend.tool
    def read_file(path): ...
    s += read_file(path="README.md")          # the same, named after the function

In an ``@frontend.function`` program the state runs the call (``program_state.py``): it reports
the finished turn as a segment boundary, pins the session's KV for the tool's expected duration,
times the tool, and appends its output (or ``error: ...`` when it raises) as a ``tool`` message.
A tool never takes the program down: its exception becomes the message and a ToolRecord.
"""
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple


@dataclass(frozen=True)
class ToolCall:
    name: str
    fn: Callable[..., Any]
    args: dict = field(default_factory=dict)

    def __repr__(self) -> str:  # what SGLang shows if a plain @sgl.function program gets one
        return (f"ToolCall({self.name!r}): tool calls need a program decorated with "
                "@agentrt.frontend.function")


class ToolRecord(NamedTuple):
    name: str
    args: dict
    duration_s: float
    error: str | None          # None: the tool returned
    output_chars: int
    pinned: bool | None = None  # the server pinned the session's KV while the tool ran


def tool_call(name: str, fn: Callable[..., Any], args: dict | None = None) -> ToolCall:
    if not callable(fn):
        raise TypeError(f"tool {name!r}: fn must be callable")
    if args is not None and not isinstance(args, dict):
        raise TypeError(f"tool {name!r}: args must be a dict of keyword arguments")
    return ToolCall(name, fn, dict(args or {}))


def tool(fn: Callable | None = None, *, name: str | None = None):
    """Decorator: calling the function builds a ToolCall (keyword arguments only)."""
    def wrap(f):
        @functools.wraps(f)
        def make(**kwargs) -> ToolCall:
            return tool_call(name or f.__name__, f, kwargs)
        return make
    return wrap(fn) if fn is not None else wrap


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def run_tool(call: ToolCall) -> tuple[str, ToolRecord]:
    """Run the tool, timed; an exception becomes ``error: <type>: <message>``."""
    started = time.perf_counter()
    try:
        output, error = as_text(call.fn(**call.args)), None
    except Exception as exc:  # noqa: BLE001 - any tool failure is reported to the model
        error = f"{type(exc).__name__}: {exc}"
        output = f"error: {error}"
    return output, ToolRecord(call.name, dict(call.args), time.perf_counter() - started, error,
                              len(output))
