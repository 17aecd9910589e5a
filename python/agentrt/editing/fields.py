"""Field readers for ``context_management``: each checks one value and raises
``EditValidationError`` naming its dotted path. Rules: integers are real ints (not bools),
objects are dicts with only known keys, thresholds are ``{"type": ..., "value": int}``."""
from typing import Any, Iterable, NamedTuple, Optional

from agentrt.editing.errors import EditValidationError

_MISSING = object()


class Threshold(NamedTuple):
    """A counted limit: ``kind`` is the unit (``input_tokens``, ``tool_uses``, ``tokens``,
    ``messages``, ``thinking_turns``), ``value`` the count."""
    kind: str
    value: int


def obj(value: Any, field: str) -> dict:
    if not isinstance(value, dict):
        raise EditValidationError(field, "must be an object")
    return value


def known_keys(value: dict, field: str, allowed: Iterable[str]) -> None:
    """Unknown keys are errors (a typo must not silently fall back to a default)."""
    allowed = set(allowed)
    for key in value:
        if key not in allowed:
            raise EditValidationError(f"{field}.{key}",
                                      f"is not a known field (known: {', '.join(sorted(allowed))})")


def integer(value: Any, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise EditValidationError(field, f"must be an integer >= {minimum}")
    return value


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise EditValidationError(field, "must be a boolean")
    return value


def names(value: Any, field: str) -> tuple[str, ...]:
    """A list of non-empty strings, returned sorted and deduplicated (a stable signature)."""
    if not isinstance(value, list):
        raise EditValidationError(field, "must be a list of tool names")
    for i, name in enumerate(value):
        if not isinstance(name, str) or not name:
            raise EditValidationError(f"{field}[{i}]", "must be a non-empty string")
    return tuple(sorted(set(value)))


def threshold(parent: dict, key: str, field: str, kinds: tuple[str, ...], minimum: int = 0,
              default: Optional[Threshold] = None) -> Optional[Threshold]:
    """``parent[key]`` as ``{"type": one of kinds, "value": int >= minimum}``; ``default`` when
    absent (``null`` counts as absent)."""
    raw = parent.get(key, _MISSING)
    if raw is _MISSING or raw is None:
        return default
    where = f"{field}.{key}"
    raw = obj(raw, where)
    known_keys(raw, where, ("type", "value"))
    kind = raw.get("type")
    if kind not in kinds:
        raise EditValidationError(f"{where}.type", f"must be one of {', '.join(kinds)}")
    if "value" not in raw:
        raise EditValidationError(f"{where}.value", "is required")
    return Threshold(kind, integer(raw["value"], f"{where}.value", minimum))


def one_of_counts(parent: dict, key: str, field: str, kinds: tuple[str, ...],
                  minimum: int = 1) -> Optional[Threshold]:
    """LangChain-style ``{"tokens": N}`` / ``{"messages": M}``: exactly one of ``kinds``."""
    raw = parent.get(key, _MISSING)
    if raw is _MISSING or raw is None:
        return None
    where = f"{field}.{key}"
    raw = obj(raw, where)
    known_keys(raw, where, kinds)
    if len(raw) != 1:
        raise EditValidationError(where, f"must have exactly one of {', '.join(kinds)}")
    (kind, value), = raw.items()
    return Threshold(kind, integer(value, f"{where}.{kind}", minimum))
