"""Validation of agentrt's JSON request bodies: HTTP 400 naming the field, nothing half-applied."""
from typing import Any


class FieldError(ValueError):
    status = 400


_MISSING = object()


def field(body: dict, name: str, kind, default: Any = _MISSING):
    if not isinstance(body, dict):
        raise FieldError("the request body must be a JSON object")
    value = body.get(name, _MISSING)
    if value is _MISSING or value is None:
        if default is _MISSING:
            raise FieldError(f"field '{name}' is required")
        return default
    ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        ok, value = True, float(value)
    if not ok:
        raise FieldError(f"field '{name}' must be {getattr(kind, '__name__', kind)}")
    return value


def token_list(body: dict, name: str = "tokens") -> list[int] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(t, int) and not isinstance(t, bool)
                                              for t in value):
        raise FieldError(f"field '{name}' must be a list of integer token ids")
    return value


def messages(body: dict, name: str = "messages") -> list[dict] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str)
            and isinstance(m.get("content"), str) for m in value):
        raise FieldError(f"field '{name}' must be a list of {{role, content}} string objects")
    return value
