"""The HTTP side of the control channel: ask the scheduler's tree to do one op, await the answer.

One DEALER socket, one call at a time (an asyncio lock); every message carries an id so a late
reply to a timed-out call is recognised and dropped.
"""
import asyncio
import itertools
import json

import zmq
import zmq.asyncio

from agentrt.server.control.endpoint import endpoint_for


class ControlError(Exception):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class ControlClient:
    def __init__(self, state_dir: str, timeout_s: float = 30.0):
        self.endpoint = endpoint_for(state_dir)
        self.timeout_s = timeout_s
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self._socket = None

    def _connect(self):
        if self._socket is None:
            self._socket = zmq.asyncio.Context.instance().socket(zmq.DEALER)
            self._socket.setsockopt(zmq.LINGER, 0)
            self._socket.connect(self.endpoint)
        return self._socket

    async def call(self, op: str, **args) -> dict:
        """The op's result; raises ControlError with the HTTP status the route should answer."""
        async with self._lock:
            sock = self._connect()
            msg_id = next(self._ids)
            await sock.send(json.dumps({"id": msg_id, "op": op, "args": args}).encode())
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.timeout_s
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0 or not await sock.poll(remaining * 1000):
                    raise ControlError(f"the scheduler did not answer {op!r} in "
                                       f"{self.timeout_s:.0f} s", 504)
                reply = json.loads(await sock.recv())
                if reply.get("id") == msg_id:
                    break
        if "error" in reply:
            raise ControlError(reply["error"], int(reply.get("status", 500)))
        return reply["result"]
