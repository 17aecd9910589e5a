"""ProgramClient behind the router (no server: httpx's MockTransport plays router and workers):
the answers of model calls sent by SGLang's frontend code place the session's home in the same
HomeBook the control calls read; a changed home reopens the session there."""
import asyncio
import json

import httpx
from sglang.lang.chat_template import get_chat_template

from agentrt.cluster.routing import Move
from agentrt.frontend.program_client import ProgramClient

ROUTER, W1, W2 = "http://router", "http://w1:1", "http://w2:2"


def scripted(seen: list, reopen_status: int = 200):
    def answer(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        seen.append((request.method, url, json.loads(request.content or b"null")))
        if url == ROUTER + "/agentrt/info":
            return httpx.Response(404)
        if url == ROUTER + "/generate":      # the probe that places a new session
            return httpx.Response(200, json={}, headers={"x-smg-routed-worker-id": W1})
        if url.endswith("/agentrt/sessions"):
            return httpx.Response(reopen_status if url.startswith(W2) else 200, json={})
        return httpx.Response(500, json={"error": "unexpected " + url})
    return answer


def client_with(seen, reopen_status=200) -> ProgramClient:
    client = ProgramClient(ROUTER, get_chat_template("chatml"))
    client.http = httpx.AsyncClient(base_url=ROUTER,
                                    transport=httpx.MockTransport(scripted(seen, reopen_status)))
    return client


def test_a_model_answer_keeps_or_moves_the_home_that_control_calls_use():
    seen = []

    async def scenario():
        client = client_with(seen)
        await client.open_session("s")                       # placed by the probe: w1
        stay = await client.arrived("s", {"x-smg-routed-worker-id": W1})
        move = await client.arrived("s", {"X-SMG-Routed-Worker-Id": W2 + "/"})
        await client.close()
        return stay, move, client.homes.home("s")

    stay, move, home = asyncio.run(scenario())
    assert stay is None and move == Move("s", W1, W2) and home == W2
    opens = [(m, u, b["session_id"]) for m, u, b in seen if u.endswith("/agentrt/sessions")]
    assert opens == [("POST", W1 + "/agentrt/sessions", "s"),
                     ("POST", W2 + "/agentrt/sessions", "s")]


def test_a_first_answer_places_a_session_without_a_probe_or_a_reopen():
    seen = []

    async def scenario():
        client = client_with(seen)
        move = await client.arrived("fresh", {"x-smg-routed-worker-id": W2})
        unrouted = await client.arrived("fresh", {})          # no router header: nothing learned
        await client.close()
        return move, unrouted, client.homes.home("fresh")

    assert asyncio.run(scenario()) == (None, None, W2)
    assert seen == []


def test_a_session_the_new_worker_already_has_is_no_error():
    seen = []

    async def scenario():
        client = client_with(seen, reopen_status=409)
        await client.open_session("s")
        move = await client.arrived("s", {"x-smg-routed-worker-id": W2})
        await client.close()
        return move

    assert asyncio.run(scenario()) == Move("s", W1, W2)
