"""RequestGuard as ASGI: what reaches the route, and what is refused before it (exact bodies)."""
import asyncio
import json

from agentrt.server.http.fields import Limits
from agentrt.server.http.guard import STATE_KEY, BodyRules, RequestGuard


def run(path, chunks, headers=(), method="POST", limits=Limits(100, 50)):
    seen = {}

    async def app(scope, receive, send):
        message = await receive()
        seen.update(body=message["body"], state=scope.get(STATE_KEY))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
                for i, c in enumerate(chunks)]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    guard = RequestGuard(app, BodyRules(64, 8, lambda: limits))
    scope = {"type": "http", "method": method, "path": path, "headers": list(headers)}
    asyncio.run(guard(scope, receive, send))
    status = sent[0]["status"]
    body = sent[1]["body"]
    return status, (json.loads(body) if status != 200 else body), seen


def test_declared_oversize_is_413_unread():
    status, body, seen = run("/generate", [b"{}"], [(b"content-length", b"65")])
    assert (status, body["code"]) == (413, 413) and seen == {}


def test_streamed_oversize_is_413():
    status, body, seen = run("/agentrt/tokenize", [b"{" + b" " * 40, b" " * 40 + b"}"])
    assert status == 413 and "over 64 bytes" in body["error"] and seen == {}


def test_array_body_on_agentrt_route_is_400():
    status, body, _ = run("/agentrt/sessions", [b"[1, 2]"])
    assert (status, body["error"]) == (400, "the request body must be a JSON object")


def test_out_of_vocab_generate_is_400():
    status, body, _ = run("/generate", [b'{"input_ids": [1, 100]}'])
    assert status == 400 and "token id 100" in body["error"]


def test_agent_fields_are_stripped_before_the_route():
    status, _, seen = run("/generate", [b'{"text": "hi", "program_id": "p1"}'])
    assert status == 200
    assert json.loads(seen["body"]) == {"text": "hi", "session_id": "p1"}
    assert seen["state"] == {"text": "hi", "session_id": "p1"}


def test_get_and_other_routes_pass_untouched():
    status, _, seen = run("/health", [b""], method="GET")
    assert status == 200 and seen["body"] == b""
    status, _, seen = run("/flush_cache", [b"[1]"])
    assert status == 200 and seen["body"] == b"[1]"   # not an agentrt or generation route


def test_multipart_is_not_parsed():
    status, _, seen = run("/v1/audio", [b"--x\r\n"], [(b"content-type", b"multipart/form-data")])
    assert status == 200 and seen["body"] == b"--x\r\n"
