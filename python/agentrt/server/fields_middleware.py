"""ASGI middleware: agent fields on SGLang's generation endpoints (see agent_fields.py).

It buffers the JSON body of POST /generate, /v1/chat/completions and /v1/completions, strips and
validates the agent fields (HTTP 400 naming the field on a bad value), passes the cleaned body to
SGLang, times the response per request class (latency_metrics.py), and, when the turn ends in a tool call (``agent_hints.tool_name`` or Continuum's
``this_func_call``), pins the session's KV for a TTL once the response is complete.
"""
import json
import logging

from agentrt.server import agent_fields, latency_metrics
from agentrt.server.control_client import ControlError
from agentrt.server.request_fields import FieldError

logger = logging.getLogger("agentrt.fields")
PATHS = {"/generate", "/v1/chat/completions", "/v1/completions"}


class AgentFieldsMiddleware:
    def __init__(self, app, control=None):
        self.app = app
        self.control = control

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in PATHS:
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, receive, send)
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        fields = agent_fields.AgentFields()
        try:
            body = json.loads(raw) if raw.strip() else None
            if isinstance(body, dict):
                clean, fields = agent_fields.extract(body)
                if fields:
                    raw = json.dumps(clean).encode()
        except ValueError as exc:  # FieldError is a ValueError; invalid JSON is left to SGLang
            if isinstance(exc, FieldError):
                return await _reply_400(send, str(exc))
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        cls = "bg" if fields.background else "fg"
        await self.app(scope, replay, latency_metrics.ResponseTimer(send, cls))
        if fields.tool_name and self.control is not None:
            session = fields.group_id or (body or {}).get("session_id")
            if session:
                try:
                    await self.control.call("pin", session_id=session, tool=fields.tool_name,
                                            ttl_s=fields.ttl_s)
                except ControlError as exc:
                    if exc.status != 404:  # an unknown session simply has nothing to pin
                        logger.warning("pin after %s: %s", scope["path"], exc)


async def _reply_400(send, message: str) -> None:
    payload = json.dumps({"error": message, "object": "error", "code": 400}).encode()
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
