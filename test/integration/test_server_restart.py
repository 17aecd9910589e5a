"""A server restart between preparation and commit: the agent still gets a correct context and
answer (fallback), and the new server's tree is intact."""
import asyncio

import requests

from agentrt.client.managed_server import ManagedServer, free_port
from agentrt.lookahead.client import AgentrtClient
from agentrt.lookahead.job import JobState
from agentrt.lookahead.runtime import LookaheadRuntime
from agentrt.lookahead.strategies import ClearToolResults
from agentrt.lookahead.strategy import ContextBudget

from .test_lookahead_runtime import conversation


def test_commit_after_server_restart_falls_back(tiny_model, tmp_path):
    port = free_port()
    args = ["--model-path", str(tiny_model), "--max-total-tokens", "8192"]
    first = ManagedServer(args, port=port, log_path=tmp_path / "first.log").start()
    url = first.url

    async def prepare(client, rt, msgs):
        tokens = len(await client.tokenize(msgs))
        rt.strategy.budget = ContextBudget(int(tokens / 0.7))        # soft: prepare
        await rt.on_segment_boundary(msgs)
        await rt.wait_prepared()
        assert rt.job_state is JobState.READY
        return tokens

    async def commit(client, rt, msgs, tokens):
        rt.strategy.budget = ContextBudget(tokens)                   # hard: commit
        result = await rt.on_commit(msgs)
        reply = await client.chat(result, max_tokens=3, session_id=rt.session_id)
        await rt.settle()     # the swap went beside the request; its failure shows now
        return result, reply

    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(_make_client(url))
    strategy = ClearToolResults(ContextBudget(10_000), keep_last=1)
    rt = LookaheadRuntime(client, strategy, session_id="restart-1", capacity_aware=False)
    msgs = conversation(6)
    try:
        tokens = loop.run_until_complete(prepare(client, rt, msgs))
        first.stop()
        second = ManagedServer(args, port=port, log_path=tmp_path / "second.log").start()
        try:
            result, reply = loop.run_until_complete(commit(client, rt, msgs, tokens))
            record = rt.records[-1]
            assert record.outcome == "fallback" and "commit failed" in record.reason
            end = record.segment_end   # the prepared transform is still the right context
            want = loop.run_until_complete(strategy.transform(msgs[:end], {}, None)).messages
            assert result == want + msgs[end:]
            assert 1 <= reply.completion_tokens <= 3 and reply.finish_reason in ("stop", "length")
            assert requests.get(f"{url}/agentrt/radix/integrity", timeout=60).json() == \
                {"ok": True}
        finally:
            loop.run_until_complete(rt.close())
            loop.run_until_complete(client.close())
            second.stop()
    finally:
        first.stop()
        loop.close()


async def _make_client(url):
    return AgentrtClient(url)
