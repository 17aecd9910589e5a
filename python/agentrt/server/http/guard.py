"""RequestGuard: the one ASGI middleware in front of every HTTP route (agentrt's and SGLang's).

For a request with a body (POST / PUT / PATCH), before any route runs:
  1. a body over ``--agentrt-max-body-mb`` is refused with 413 (from Content-Length when given,
     else while it streams in: it is never buffered whole);
  2. a JSON body (anything but multipart / form data) must be strict JSON (no NaN / Infinity,
     no number that overflows a float), nest at most
     ``--agentrt-max-json-depth`` deep and, on agentrt's routes and SGLang's generation routes,
     be an object: else 400 (deep nesting would raise RecursionError in every JSON parser after
     this one: 500s);
  3. on SGLang's generation routes: the agent fields are validated and stripped
     (``agent_fields.py``) and the prompt is checked (``prompt_checks.py``): 400 naming the
     field. The route then sees the cleaned body; the parsed object is kept for agentrt's routes
     (``json_object``), so nothing is parsed twice.
Then, when the body asks for it, server-side context editing rewrites the messages
(``editing/editor.py``); its lookahead's boundary work starts once the response is sent. After
a generation turn that ends in a tool call, the session's KV is pinned for the tool's TTL.
Response times go to the latency histograms per request class.
"""
import json
import logging
from typing import Awaitable, Callable, Optional

from agentrt.server.control.client import ControlError
from agentrt.server.editing.editor import reporting_send
from agentrt.server.http import agent_fields, errors
from agentrt.server.http.fields import FieldError, Limits, TooLarge
from agentrt.server.http.prompt_checks import (GENERATION_PATHS, check_generation_body,
                                               check_sampling)
from agentrt.server.metrics import latency

logger = logging.getLogger("agentrt.guard")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
STATE_KEY = "agentrt_json_body"


class BodyRules:
    """The limits the guard applies; ``limits()`` gives the served model's (known only once
    SGLang's tokenizer manager is up, so it is a callable)."""

    def __init__(self, max_body_bytes: int, max_json_depth: int,
                 limits: Callable[[], Limits] = Limits):
        self.max_body_bytes, self.max_json_depth, self.limits = \
            max_body_bytes, max_json_depth, limits


def json_depth(value) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), without recursion."""
    depth, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) \
            else None
        if children is None:
            continue
        depth = max(depth, level)
        stack.extend((c, level + 1) for c in children if isinstance(c, (dict, list)))
    return depth


def parse_body(raw: bytes, max_depth: int, need_object: bool):
    """The parsed JSON body (None when empty); FieldError when malformed, too deep, or not an
    object where one is needed."""
    if not raw.strip():
        return None
    # a body with fewer brackets than the limit cannot nest deeper: skip the walk
    brackets = raw.count(b"[") + raw.count(b"{")
    try:
        body = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise FieldError(f"the JSON body nests deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise FieldError(f"the request body is not valid JSON: {exc}") from None
    if brackets > max_depth and json_depth(body) > max_depth:
        raise FieldError(f"the JSON body nests deeper than {max_depth} levels")
    if need_object and not isinstance(body, dict):
        raise FieldError("the request body must be a JSON object")
    return body


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:40]} is not a finite number")
    return value


def _is_json(scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return not value.lower().startswith((b"multipart/", b"application/x-www-form"))
    return True


def _content_length(scope) -> Optional[int]:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def json_object(request) -> dict:
    """The validated body of an agentrt route (``{}`` when empty): parsed once by the guard."""
    body = request.scope.get(STATE_KEY)
    return body if isinstance(body, dict) else {}


class RequestGuard:
    def __init__(self, app, rules: BodyRules, control=None, editor=None):
        """``editor``: server-side context editing (editing/editor.py's ServerEditor), or None."""
        self.app, self.rules, self.control, self.editor = app, rules, control, editor

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            return await self.app(scope, receive, send)
        try:
            raw = await self._read_body(scope, receive)
            body, fields = self._check(scope, raw)
            edited = None
            if self.editor is not None and isinstance(body, dict):
                edited = await self.editor.edit(scope["path"], body, scope.get("headers", ()))
        except FieldError as exc:
            return await errors.send_error(send, exc.status, str(exc))
        if fields or edited is not None:
            raw = json.dumps(body).encode()
        send = latency.ResponseTimer(send, "bg" if fields.background else "fg")
        if edited is not None:
            send = reporting_send(send, edited)
        await self.app(scope, _replay(raw, receive), send)
        if edited is not None and edited.after is not None:
            edited.after()      # the lookahead's segment boundary, once the response is sent
        if fields.tool_name and self.control is not None:
            await self._pin_for_tool(scope["path"], fields, body)

    async def _read_body(self, scope, receive) -> bytes:
        limit = self.rules.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            raise TooLarge(f"the request body has {declared} bytes; at most {limit} are accepted")
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                raise TooLarge(f"the request body is over {limit} bytes")
            more = message.get("more_body", False)
        return b"".join(chunks)

    def _check(self, scope, raw: bytes):
        path = scope["path"]
        fields = agent_fields.AgentFields()
        if not _is_json(scope):
            return None, fields
        generation = path in GENERATION_PATHS
        body = parse_body(raw, self.rules.max_json_depth,
                          need_object=generation or path.startswith("/agentrt/"))
        if generation and body is not None:
            body, fields = agent_fields.extract(body)
            limits = self.rules.limits()
            check_generation_body(path, body, limits)
            check_sampling(path, body, limits)
        scope[STATE_KEY] = body
        return body, fields

    async def _pin_for_tool(self, path: str, fields, body) -> None:
        session = fields.group_id or (body or {}).get("session_id")
        if not session:
            return
        try:
            await self.control.call("pin", session_id=session, tool=fields.tool_name,
                                    ttl_s=fields.ttl_s)
        except ControlError as exc:
            if exc.status != 404:  # an unknown session simply has nothing to pin
                logger.warning("pin after %s: %s", path, exc)


def _replay(raw: bytes, receive) -> Callable[[], Awaitable[dict]]:
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()
    return replay
