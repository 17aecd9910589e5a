"""The HTTP side of the control channel: ask the scheduler's tree to do an op, await the answer.

One DEALER socket; calls run concurrently: each message carries an id, one reader task hands
each reply to the call that waits for it, and a reply to a call that timed out is dropped. A
call may wait long (a prepare or append with ``wait``: the scheduler answers when the branch's
prefill ends), so each call names its own timeout.

A server that is shutting down (SGLang drains its requests on SIGTERM; the scheduler exits with
it) answers no control call: a new call is refused and every waiting call released, both with
503, within ``CLOSING_POLL_S``. Without this a call in flight at shutdown waited out its whole
timeout for a scheduler that was gone, and held the server's exit that long.
"""
import asyncio
import itertools
import json
from typing import Callable, Optional

import zmq
import zmq.asyncio

from agentrt.server.control.endpoint import endpoint_for

CLOSING_POLL_S = 0.25     # how often a waiting reader looks whether the server is shutting down
SHUTTING_DOWN = "the server is shutting down: the scheduler answers no more control calls"


class ControlError(Exception):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class ControlClient:
    def __init__(self, state_dir: str, timeout_s: float = 30.0,
                 closing: Optional[Callable[[], bool]] = None):
        """``closing``: whether the server is shutting down (never, when not given)."""
        self.endpoint = endpoint_for(state_dir)
        self.timeout_s = timeout_s
        self._closing = closing or (lambda: False)
        self._ids = itertools.count(1)
        self._socket = None
        self._reader: Optional[asyncio.Task] = None
        self._waiting: dict[int, asyncio.Future] = {}

    def _connect(self):
        if self._socket is None:
            self._socket = zmq.asyncio.Context.instance().socket(zmq.DEALER)
            self._socket.setsockopt(zmq.LINGER, 0)
            self._socket.connect(self.endpoint)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())
        return self._socket

    async def _read(self) -> None:
        """Hand each reply to its call; stops when no call waits, or the server shuts down
        (every waiting call then fails with 503)."""
        while self._waiting:
            if self._closing():
                self._release_all(ControlError(SHUTTING_DOWN, 503))
                return
            if not await self._socket.poll(int(CLOSING_POLL_S * 1000), zmq.POLLIN):
                continue
            reply = json.loads(await self._socket.recv())
            future = self._waiting.pop(reply.get("id"), None)
            if future is not None and not future.done():
                future.set_result(reply)

    def _release_all(self, error: ControlError) -> None:
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(error)
        self._waiting.clear()

    async def call(self, op: str, timeout_s: Optional[float] = None, **args) -> dict:
        """The op's result; raises ControlError with the HTTP status the route should answer
        (504 when the scheduler does not answer within ``timeout_s``, 503 when the server is
        shutting down)."""
        if self._closing():
            raise ControlError(SHUTTING_DOWN, 503)
        msg_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = future
        try:
            sock = self._connect()
            await sock.send(json.dumps({"id": msg_id, "op": op, "args": args}).encode())
            limit = self.timeout_s if timeout_s is None else timeout_s
            try:
                reply = await asyncio.wait_for(future, limit)
            except asyncio.TimeoutError:
                raise ControlError(f"the scheduler did not answer {op!r} in {limit:.0f} s",
                                   504) from None
        finally:
            self._waiting.pop(msg_id, None)
        if "error" in reply:
            raise ControlError(reply["error"], int(reply.get("status", 500)))
        return reply["result"]
