"""The validation layer of agentrt's HTTP requests: pure checks, HTTP 4xx naming the field.

Rules every route follows (the routes parse a whole body into values first, then act, so a
refused request has changed nothing):
  - a body is a JSON object (``guard.py`` refuses the rest before any route runs);
  - numbers are finite; ints are ints (a bool is not an int); ranges are stated per field;
  - ids (sessions, branches, programs, jobs, reasons) are 1-128 characters of ``ID_ALPHABET``:
    a session id can always be addressed in a URL path and used as a router key;
  - token ids lie in ``[0, vocab_size)``; token lists fit the model's context (413 otherwise);
  - chat messages are ``{role, content}`` objects with string values.
"""
import math
import re
from typing import Any, NamedTuple, Optional

ID_ALPHABET = "A-Z a-z 0-9 _ . : @ = + -"
_ID = re.compile(r"[A-Za-z0-9_.:@=+\-]{1,128}")
MAX_TEXT_CHARS = 1 << 24


class FieldError(ValueError):
    """A request value is malformed (HTTP 400); nothing was applied."""
    status = 400


class TooLarge(FieldError):
    """A body, a context or a branch is over its limit (HTTP 413); nothing was applied."""
    status = 413


class Limits(NamedTuple):
    """What the served model accepts: token ids below ``vocab_size``, at most ``max_tokens``."""
    vocab_size: Optional[int] = None
    max_tokens: Optional[int] = None


REQUIRED = object()   # the default of a field that must be given


def _type_name(kind) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(kind, getattr(kind, "__name__", str(kind)))


def value_of(name: str, value: Any, kind, minimum: Optional[float] = None) -> Any:
    """``value`` checked as ``kind`` (an int is a float; a bool is neither), finite, and at
    least ``minimum`` when given. Raises FieldError naming ``name``."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
        raise FieldError(f"field '{name}' must be {_type_name(kind)}")
    if kind is float and not math.isfinite(value):
        raise FieldError(f"field '{name}' must be a finite number")
    if minimum is not None and value < minimum:
        raise FieldError(f"field '{name}' must be >= {minimum:g}")
    if kind is str and len(value) > MAX_TEXT_CHARS:
        raise TooLarge(f"field '{name}' is longer than {MAX_TEXT_CHARS} characters")
    return value


def field(body: dict, name: str, kind, default: Any = REQUIRED,
          minimum: Optional[float] = None) -> Any:
    """``body[name]`` checked by ``value_of``; a missing or null value is ``default`` (required
    when no default is given)."""
    if not isinstance(body, dict):
        raise FieldError("the request body must be a JSON object")
    value = body.get(name, REQUIRED)
    if value is REQUIRED or value is None:
        if default is REQUIRED:
            raise FieldError(f"field '{name}' is required")
        return default
    return value_of(name, value, kind, minimum)


def identifier(name: str, value: Any) -> str:
    """A session / branch / program id: 1-128 characters of ID_ALPHABET."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise FieldError(f"field '{name}' must be 1-128 characters of {ID_ALPHABET}")
    return value


def id_field(body: dict, name: str, default: Any = REQUIRED) -> Any:
    value = field(body, name, str, default)
    return value if value is default else identifier(name, value)


def tokens_in_range(name: str, value: Any, limits: Limits, allow_empty: bool = True) -> list[int]:
    """A list of token ids in ``[0, vocab_size)`` of at most ``limits.max_tokens``."""
    if not isinstance(value, list) or not all(type(t) is int for t in value):
        raise FieldError(f"field '{name}' must be a list of integer token ids")
    if not value and not allow_empty:
        raise FieldError(f"field '{name}' must not be empty")
    if limits.max_tokens is not None and len(value) > limits.max_tokens:
        raise TooLarge(f"field '{name}' has {len(value)} tokens; at most {limits.max_tokens} "
                       "are accepted")
    if value and (min(value) < 0 or (limits.vocab_size is not None
                                     and max(value) >= limits.vocab_size)):
        bad = next(t for t in value if t < 0 or (limits.vocab_size is not None
                                                   and t >= limits.vocab_size))
        raise FieldError(f"field '{name}' holds token id {bad}, out of vocabulary "
                         f"[0, {limits.vocab_size})")
    return value


def token_list(body: dict, name: str = "tokens", limits: Limits = Limits()) -> list[int] | None:
    value = body.get(name)
    return None if value is None else tokens_in_range(name, value, limits)


def messages(body: dict, name: str = "messages") -> list[dict] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str)
            and isinstance(m.get("content"), str) for m in value):
        raise FieldError(f"field '{name}' must be a list of {{role, content}} string objects")
    if not value:
        raise FieldError(f"field '{name}' must not be empty")
    if sum(len(m["content"]) for m in value) > MAX_TEXT_CHARS:
        raise TooLarge(f"field '{name}' holds more than {MAX_TEXT_CHARS} characters")
    return value
