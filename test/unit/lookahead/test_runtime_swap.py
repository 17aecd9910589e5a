"""A commit's pointer swap goes beside the commit request: on_commit does not wait for it, the
next preparation does, and a refused swap turns the record into a fallback (fake client)."""
import asyncio

from agentrt.lookahead.client import ServerError
from agentrt.lookahead.runtime import LookaheadRuntime
from agentrt.lookahead.strategy import ContextBudget

from .test_runtime_start import DropOldestTool, FakeClient, words


class GatedClient(FakeClient):
    """The swap lands only when ``gate`` is set; every call is logged in order."""

    def __init__(self, refuse: bool = False):
        super().__init__()
        self.gate, self.refuse, self.log, self.abandoned = asyncio.Event(), refuse, [], []

    async def prepare(self, sid, messages, strategy, version, sig, wait=True, promote=False,
                      window_s=None, later_window_s=None, commit_tokens=None):
        self.log.append(f"prepare b{version}")
        return await super().prepare(sid, messages, strategy, version, sig, wait, promote,
                                     window_s, later_window_s, commit_tokens)

    async def commit(self, sid, branch):
        await self.gate.wait()
        self.log.append(f"commit {branch}")
        if self.refuse:
            raise ServerError(409, f"branch {branch} is abandoned, not ready")
        return await super().commit(sid, branch)

    async def abandon(self, sid, branch, reason):
        self.abandoned.append(branch)


def _context():
    return [{"role": "system", "content": words(10)}] + \
        [{"role": "tool", "content": words(25)} for _ in range(3)]       # 85 of 100: past hard


async def _commit(client):
    rt = LookaheadRuntime(client, DropOldestTool(ContextBudget(100)), session_id="s")
    msgs = _context()
    await rt.on_segment_boundary(msgs)
    await rt.wait_prepared()
    out = await asyncio.wait_for(rt.on_commit(msgs), 5)     # returns with the swap in flight
    return rt, out


def test_commit_returns_before_its_swap_and_the_next_preparation_waits_for_it():
    async def go():
        client = GatedClient()
        rt, out = await _commit(client)
        assert rt.records[-1].outcome == "ready" and client.committed == []
        await asyncio.sleep(0.05)                 # the next preparation (still past soft) ...
        assert client.log == ["prepare b1"]      # ... waits for the swap to land
        client.gate.set()
        await rt.wait_prepared()
        await rt.settle()
        assert client.log == ["prepare b1", "commit b1", "prepare b2"]
        assert rt.records[-1].outcome == "ready" and len(out) == 3
        assert rt.records[0].background_tokens == client.lengths["b1"] > 0
        await rt.close()

    asyncio.run(go())


def test_a_refused_swap_makes_the_record_a_fallback_when_settled():
    async def go():
        client = GatedClient(refuse=True)
        rt, out = await _commit(client)
        assert rt.records[-1].outcome == "ready"           # optimistic until settled
        client.gate.set()
        await rt.settle()
        record = rt.records[-1]
        assert record.outcome == "fallback" and "commit failed" in record.reason
        assert record.prepared_tokens == 0 and client.abandoned == ["b1"]
        assert len(out) == 3       # the messages are the same whether the swap landed or not
        await rt.close()

    asyncio.run(go())
