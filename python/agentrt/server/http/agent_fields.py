"""The agent fields agentrt accepts on /generate, /v1/chat/completions and /v1/completions.

Names as SmoothAgent's framework integrations send them (``request_class``, ``is_lookahead``,
``priority_class``, ``lookahead_group_id``, ``arrival_time_ms``, ``commit_deadline_ms``,
``slo_ttft_ms``, ``slo_tbt_ms``), Continuum's (``program_id``, ``job_id``, ``this_func_call``,
``is_last_step``) and SGLang upstream's ``agent_hints`` object. ``extract`` removes them from a
request body and validates them (numbers finite, times and counts >= 0, group ids in the id
alphabet of fields.py, since they become the session id); a bad value raises FieldError
naming the field, and the request is refused whole (nothing is half-applied). SGLang then sees an ordinary request plus:
  - ``priority`` from the class (foreground above background) unless the client set one;
  - ``session_id`` from the first group id given, unless the client set one.
"""
from dataclasses import dataclass, field
from typing import Any, Optional

from agentrt.server.http.fields import FieldError, identifier, value_of

# agentrt serve runs SGLang with --enable-priority-scheduling --default-priority-value 0: plain
# requests are foreground (0); background work sits far below, so SGLang admits foreground
# first and may preempt a running background prefill for it (threshold 10).
FOREGROUND_PRIORITY, BACKGROUND_PRIORITY = 0, -100

_TOP = {  # name: (type, allowed values or None)
    "request_class": (str, {"fg", "bg"}),
    "is_lookahead": (bool, None),
    "priority_class": (str, {"lc", "be"}),
    "lookahead_group_id": (str, None),
    "arrival_time_ms": (float, None),
    "commit_deadline_ms": (float, None),
    "slo_ttft_ms": (float, None),
    "slo_tbt_ms": (float, None),
    "program_id": (str, None),
    "job_id": (str, None),
    "this_func_call": (str, None),
    "is_last_step": (bool, None),
}
_HINTS = {
    "workflow_id": (str, None), "agent_id": (str, None), "step_id": (str, None),
    "step_index": (int, None), "total_steps": (int, None), "parent_step_id": (str, None),
    "children_step_ids": (list, None), "tool_name": (str, None),
    "expected_tool_duration_ms": (float, None), "cache_ttl_ms": (float, None),
    "reuse_hint": (str, None),
}
_NON_NEGATIVE = {"arrival_time_ms", "commit_deadline_ms", "slo_ttft_ms", "slo_tbt_ms",
                 "expected_tool_duration_ms", "cache_ttl_ms", "step_index", "total_steps"}


@dataclass(frozen=True)
class AgentFields:
    values: dict = field(default_factory=dict)
    hints: dict = field(default_factory=dict)

    @property
    def background(self) -> bool:
        return (self.values.get("request_class") == "bg" or self.values.get("is_lookahead") is True
                or self.values.get("priority_class") == "be")

    @property
    def group_id(self) -> Optional[str]:
        for key in ("lookahead_group_id", "program_id", "job_id"):
            if self.values.get(key):
                return self.values[key]
        return self.hints.get("workflow_id")

    @property
    def tool_name(self) -> Optional[str]:
        """The tool this turn ends in (pins the session's KV while it runs), if any."""
        if self.values.get("is_last_step"):
            return None
        return self.hints.get("tool_name") or self.values.get("this_func_call")

    @property
    def ttl_s(self) -> Optional[float]:
        for ms in (self.hints.get("cache_ttl_ms"), self.hints.get("expected_tool_duration_ms")):
            if ms is not None:
                return ms / 1000.0
        return None

    def __bool__(self) -> bool:
        return bool(self.values or self.hints)


_IDS = {"lookahead_group_id", "program_id", "job_id", "workflow_id"}  # may become session_id
MAX_STRING = 256   # names and hints that are not ids (agent, step and tool names)


def _check(key: str, value: Any, spec, prefix: str = "") -> Any:
    """One field checked by its spec: type, finite number, allowed values, >= 0, id alphabet."""
    kind, allowed = spec
    name = prefix + key
    value = value_of(name, value, kind, minimum=0 if key in _NON_NEGATIVE else None)
    if allowed is not None and value not in allowed:
        raise FieldError(f"field '{name}' must be one of {sorted(allowed)}")
    if key in _IDS:
        identifier(name, value)
    elif kind is str and not 0 < len(value) <= MAX_STRING:
        raise FieldError(f"field '{name}' must be 1-{MAX_STRING} characters")
    elif kind is list and not all(isinstance(v, str) and 0 < len(v) <= MAX_STRING
                                  for v in value):
        raise FieldError(f"field '{name}' must be a list of 1-{MAX_STRING} character strings")
    return value


def extract(body: dict) -> tuple[dict, AgentFields]:
    """(body for SGLang, the agent fields). Raises FieldError; ``body`` is not modified."""
    if not isinstance(body, dict):
        return body, AgentFields()
    values = {k: _check(k, body[k], spec) for k, spec in _TOP.items()
              if k in body and body[k] is not None}
    hints_in = body.get("agent_hints")
    if hints_in is not None and not isinstance(hints_in, dict):
        raise FieldError("field 'agent_hints' must be an object")
    hints_in = hints_in or {}
    unknown = set(hints_in) - set(_HINTS)
    if unknown:
        raise FieldError(f"field 'agent_hints.{sorted(unknown)[0]}' is not a known agent hint")
    hints = {k: _check(k, v, _HINTS[k], "agent_hints.") for k, v in hints_in.items()
             if v is not None}
    fields = AgentFields(values, hints)
    clean = {k: v for k, v in body.items() if k not in _TOP and k != "agent_hints"}
    if fields:
        if clean.get("priority") is None and any(
                k in values for k in ("request_class", "priority_class", "is_lookahead")):
            clean["priority"] = BACKGROUND_PRIORITY if fields.background else FOREGROUND_PRIORITY
        if clean.get("session_id") is None and fields.group_id:
            clean["session_id"] = fields.group_id
    return clean, fields
