"""The control client runs calls concurrently: each reply reaches the call that waits for it,
whatever the order the scheduler answers in; a call past its timeout is a 504 and its late
reply is dropped (a stand-in ROUTER endpoint, no scheduler)."""
import asyncio
import json

import pytest
import zmq
import zmq.asyncio

from agentrt.server.control.client import ControlClient, ControlError
from agentrt.server.control.endpoint import endpoint_for


async def _endpoint(state_dir, order):
    """Receives ``len(order)`` calls, then answers them in ``order`` (by op name)."""
    sock = zmq.asyncio.Context.instance().socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind(endpoint_for(state_dir))
    calls = {}
    while len(calls) < len(order):
        identity, payload = await sock.recv_multipart()
        message = json.loads(payload)
        calls[message["op"]] = (identity, message)
    for op in order:
        identity, message = calls[op]
        reply = {"id": message["id"], "result": {"op": op, "args": message["args"]}}
        await sock.send_multipart([identity, json.dumps(reply).encode()])
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    sock.close()


def test_replies_reach_their_calls_in_any_order(tmp_path):
    async def go():
        server = asyncio.create_task(_endpoint(str(tmp_path), ["second", "first"]))
        client = ControlClient(str(tmp_path))
        first = asyncio.create_task(client.call("first", x=1))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(client.call("second", x=2))
        results = await asyncio.gather(first, second)
        await server
        return results

    first, second = asyncio.run(go())
    assert first == {"op": "first", "args": {"x": 1}}
    assert second == {"op": "second", "args": {"x": 2}}


def test_a_call_past_its_timeout_is_a_504_and_its_late_reply_is_dropped(tmp_path):
    async def go():
        server = asyncio.create_task(_endpoint(str(tmp_path), ["fast", "slow"]))
        client = ControlClient(str(tmp_path))
        slow = asyncio.create_task(client.call("slow", timeout_s=0.02))
        fast = asyncio.create_task(client.call("fast", timeout_s=5))
        with pytest.raises(ControlError) as err:
            await slow
        result = await fast
        await server
        return err.value, result, client

    err, result, client = asyncio.run(go())
    assert err.status == 504 and result["op"] == "fast"
    assert client._waiting == {}


def test_a_server_shutting_down_releases_waiting_calls_and_refuses_new_ones_with_503(tmp_path):
    """SGLang drains on SIGTERM while its scheduler exits: a call waiting then must not wait
    out its timeout for an answer that never comes (and hold the server's exit that long)."""
    async def go():
        silent = zmq.asyncio.Context.instance().socket(zmq.ROUTER)   # receives, never answers
        silent.setsockopt(zmq.LINGER, 0)
        silent.bind(endpoint_for(str(tmp_path)))
        closing = [False]
        client = ControlClient(str(tmp_path), closing=lambda: closing[0])
        waiting = asyncio.create_task(client.call("abandon", timeout_s=30))
        await silent.recv_multipart()       # the call reached the scheduler's socket
        closing[0] = True
        start = asyncio.get_running_loop().time()
        with pytest.raises(ControlError) as released:
            await waiting
        took = asyncio.get_running_loop().time() - start
        with pytest.raises(ControlError) as refused:
            await client.call("append", timeout_s=30)
        silent.close()
        return released.value, took, refused.value, client

    released, took, refused, client = asyncio.run(go())
    assert released.status == 503 and "shutting down" in str(released)
    assert took < 2.0
    assert refused.status == 503
    assert client._waiting == {}
