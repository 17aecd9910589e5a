"""The scheduler side of agentrt's control channel: a ZMQ ROUTER socket drained every loop.

Installed by two hooks (launch/plugin.py): after ``Scheduler.__init__`` the socket is bound at
``ipc://<state_dir>/control.ipc`` and added to SGLang's idle-sleeper poller (so a control message
wakes a sleeping scheduler); after every ``Scheduler.ingest_requests`` the socket is drained and
each op runs in the scheduler thread, between batches, where mutating the tree is safe.

A prepare or append that asked to wait is parked, not answered: after each drain the endpoint
answers the parked calls whose branch no longer waits for its prefill (scheduling/prefills.py),
with what became of it. So one call from the HTTP process returns the scheduler's decision.
"""
import json
import logging
import os
from typing import NamedTuple

import zmq

from agentrt.radix.cache import LookaheadRadixCache
from agentrt.server.control import ops
from agentrt.server.scheduling import hooks
from agentrt.server.scheduling.prefills import BranchPrefills, awaits_prefill, outcome
from agentrt.server.scheduling.sglang_objects import check_scheduler

logger = logging.getLogger("agentrt.control")
ENDPOINT_FILE = "control.ipc"


def endpoint_for(state_dir: str) -> str:
    return f"ipc://{os.path.join(state_dir, ENDPOINT_FILE)}"


class Parked(NamedTuple):
    """A call answered when its branch's prefill ends."""
    identity: bytes
    msg_id: object
    wait: ops.Wait


class ControlEndpoint:
    def __init__(self, scheduler, state_dir: str):
        self.scheduler = scheduler
        self.prefills = BranchPrefills(scheduler)
        self.parked: list[Parked] = []
        self.socket = zmq.Context.instance().socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.bind(endpoint_for(state_dir))
        sleeper = scheduler.idle_sleeper    # None without --sleep-on-idle
        if sleeper is not None and hasattr(sleeper, "poller"):   # the Python sleeper polls
            sleeper.poller.register(self.socket, zmq.POLLIN)

    @property
    def cache(self):
        tree = self.scheduler.tree_cache
        return tree if isinstance(tree, LookaheadRadixCache) else None

    def drain(self, limit: int = 64) -> int:
        """Answer pending control messages (at most ``limit``, so batches keep flowing), abort
        the prefills of branches that ended, then answer the parked calls whose branch's
        prefill ended."""
        handled = 0
        cache = self.cache
        if cache is not None:
            cache.expire_pins()
        while handled < limit:
            try:
                identity, payload = self.socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            try:
                message = json.loads(payload)
                reply = ops.run(cache, message.get("op"), message.get("args") or {},
                                self.prefills)
            except ValueError as exc:
                message, reply = {}, {"error": f"malformed control message: {exc}",
                                      "status": 400}
            wait = reply.pop("wait", None)
            if wait is not None:
                self.parked.append(Parked(identity, message.get("id"), wait))
            else:
                self._send(identity, message.get("id"), reply)
            handled += 1
        if cache is not None:
            self.prefills.end_finished(cache)
            self._answer_parked(cache)
        return handled

    def _answer_parked(self, cache) -> None:
        if not self.parked:
            return
        still = []
        for call in self.parked:
            branch = cache.book.branches.get(call.wait.branch_id)
            if awaits_prefill(branch):
                still.append(call)
            elif branch is None:
                self._send(call.identity, call.msg_id,
                           {"error": f"branch {call.wait.branch_id} is gone", "status": 404})
            else:
                answer = outcome(branch, call.wait.asked_tokens)
                self._send(call.identity, call.msg_id,
                           {"result": dict(answer, **(call.wait.extra or {}))})
        self.parked = still

    def _send(self, identity: bytes, msg_id, reply: dict) -> None:
        reply["id"] = msg_id
        self.socket.send_multipart([identity, json.dumps(reply).encode()])


def after_scheduler_init(result, scheduler, *args, **kwargs):
    """AFTER hook on Scheduler.__init__."""
    from agentrt.config import AgentrtConfig

    check_scheduler(scheduler)       # every SGLang attribute agentrt uses, loudly
    config = AgentrtConfig.current()
    if config is not None and config.state_dir:
        scheduler._agentrt_control = ControlEndpoint(scheduler, config.state_dir)
        logger.info("agentrt control endpoint at %s", endpoint_for(config.state_dir))
    return result


def after_ingest_requests(result, scheduler, *args, **kwargs):
    """AFTER hook on Scheduler.ingest_requests (once per scheduler loop iteration)."""
    endpoint = scheduler.__dict__.get("_agentrt_control")   # agentrt's own attribute
    if endpoint is not None:
        endpoint.drain()
        hooks.boost_promoted(scheduler)
    return result
