"""``context_management`` parsed and validated: ``parse_context_management(value)``.

Rules: an object with only ``edits`` and ``lookahead``; ``edits`` a list of objects each with a
known ``type``; each type
appears at most once; ``clear_thinking_20251015`` must be the first edit when present
(Anthropic's rule when combining it with tool clearing). Any violation raises
``EditValidationError`` (HTTP 400) naming the field; a valid object is returned whole, so a
request is never half-applied. Edits run in the listed order, each on the previous one's output.

``lookahead`` (agentrt): ``false`` (the edit is applied at its trigger turn only), ``true`` or
``{"fraction": F, "capacity_aware": B}`` with 0 < F < 1 (default 0.8): from F times an edit's
trigger the server prepares the edited context ahead (server/editing/lookahead.py), unless it
has not the idle time for it before the trigger turn (``capacity_aware``, default true; false
prepares from the soft trigger whatever the load). It is not part of the signature: turning it
on or off keeps the conversation's sticky edits.
"""
import hashlib
from dataclasses import dataclass
from typing import Any

from agentrt.editing import fields as f
from agentrt.editing.edits import EDIT_KINDS
from agentrt.editing.edits.clear_thinking import TYPE as CLEAR_THINKING
from agentrt.editing.errors import EditValidationError

DEFAULT_LOOKAHEAD = 0.8


@dataclass(frozen=True)
class ContextManagement:
    edits: tuple = ()                    # specs (frozen dataclasses), in application order
    lookahead: float = DEFAULT_LOOKAHEAD  # soft-trigger fraction; 0.0: no preparation ahead
    capacity_aware: bool = True           # a preparation starts only if it fits idle time

    @property
    def signature(self) -> str:
        """Stable identity of the configuration: state is reused only under the same one."""
        return hashlib.sha256(repr(self.edits).encode()).hexdigest()


def _edit(raw: Any, field: str, seen: dict) -> Any:
    raw = f.obj(raw, field)
    kind = EDIT_KINDS.get(raw.get("type")) if isinstance(raw.get("type"), str) else None
    if kind is None:
        raise EditValidationError(f"{field}.type",
                                  f"must be one of {', '.join(sorted(EDIT_KINDS))}")
    if kind.type in seen:
        raise EditValidationError(f"{field}.type",
                                  f"{kind.type} is already edits[{seen[kind.type]}]")
    if kind.type == CLEAR_THINKING and seen:
        raise EditValidationError(f"{field}.type", f"{CLEAR_THINKING} must be the first edit")
    return kind.parse(raw, field)


def parse_context_management(value: Any, field: str = "context_management") -> ContextManagement:
    value = f.obj(value, field)
    f.known_keys(value, field, ("edits", "lookahead"))
    edits = value.get("edits", [])
    if not isinstance(edits, list):
        raise EditValidationError(f"{field}.edits", "must be a list")
    seen: dict[str, int] = {}
    specs = []
    for i, raw in enumerate(edits):
        specs.append(_edit(raw, f"{field}.edits[{i}]", seen))
        seen[specs[-1].type] = i
    return ContextManagement(tuple(specs), *_lookahead(value.get("lookahead"),
                                                       f"{field}.lookahead"))


def _lookahead(raw: Any, field: str) -> tuple[float, bool]:
    """(fraction, capacity_aware): ``null`` / absent / ``true``: the defaults; ``false``: 0.0
    (off); an object ``{"fraction": F, "capacity_aware": B}`` with 0 < F < 1."""
    if raw is None or raw is True:
        return DEFAULT_LOOKAHEAD, True
    if raw is False:
        return 0.0, True
    raw = f.obj(raw, field)
    f.known_keys(raw, field, ("fraction", "capacity_aware"))
    fraction = raw.get("fraction", DEFAULT_LOOKAHEAD)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) \
            or not 0 < fraction < 1:
        raise EditValidationError(f"{field}.fraction", "must be a number in (0, 1)")
    aware = raw.get("capacity_aware", True)
    if not isinstance(aware, bool):
        raise EditValidationError(f"{field}.capacity_aware", "must be a boolean")
    return float(fraction), aware
