"""The agent's step limit (horizon.py): no preparation whose commit cannot come before the job's
last model call, and a prepared one released once its commit no longer can. A fake server
client (test_runtime_start.py), no model."""
import asyncio

import pytest

from agentrt.lookahead.horizon import Horizon
from agentrt.lookahead.runtime import LookaheadRuntime
from agentrt.lookahead.strategies import ClearToolResults
from agentrt.lookahead.strategy import ContextBudget

from .test_runtime_start import FakeClient, words


def _horizon(max_calls, calls, boundaries_between=2, since=0):
    h = Horizon(max_calls)
    for i in range(calls):
        if i:
            for _ in range(boundaries_between):
                h.boundary()
        h.call()
    for _ in range(since):
        h.boundary()
    return h


def test_segments_left_count_the_boundaries_before_the_last_call():
    assert Horizon(None).segments_left() is None                 # no limit
    assert _horizon(5, 1).segments_left() is None                # per call not seen yet
    assert _horizon(5, 2).segments_left() == 2 + 2 * 2           # 3 calls left
    assert _horizon(5, 2, since=1).segments_left() == 1 + 2 * 2  # a reply appended
    assert _horizon(5, 4, since=2).segments_left() == 0          # the last call comes next
    assert _horizon(5, 5).segments_left() == -1                  # no call left


def test_a_commit_is_reachable_only_if_the_growth_over_the_segments_left_gets_there():
    h = _horizon(5, 4, since=1)                   # one segment before the last call
    assert h.commit_reachable(700, 800, growth=100)
    assert not h.commit_reachable(699, 800, growth=100)
    assert h.commit_reachable(699, 800, growth=None)          # growth unknown: reachable
    assert h.commit_reachable(900, 800, growth=10)            # due already
    last = _horizon(5, 4, since=2)
    assert not last.commit_reachable(799, 800, growth=None)   # no segment left to grow by
    assert not _horizon(5, 5).commit_reachable(900, 800, growth=100)   # no call left
    assert Horizon(None).commit_reachable(0, 800, growth=None)
    with pytest.raises(ValueError):
        Horizon(0)


async def _job(calls, max_calls, client):
    """The replay's agent loop: per call a 40-word reply and a 60-word tool output (soft 600,
    hard 800 of a 1,000-word budget); the last reply is the final answer."""
    rt = LookaheadRuntime(client, ClearToolResults(ContextBudget(1000), keep_last=1),
                          session_id="s", max_calls=max_calls)
    msgs = [{"role": "system", "content": words(10)}]
    for step in range(calls):
        msgs = await rt.on_commit(msgs)
        if step == calls - 1:
            break
        msgs.append({"role": "assistant", "content": words(40)})
        await rt.on_segment_boundary(msgs)
        msgs.append({"role": "tool", "content": words(60)})
        await rt.on_segment_boundary(msgs)
        await rt.wait_prepared()
    return rt


def test_a_job_that_ends_below_the_hard_threshold_prepares_nothing():
    """Eight calls reach 710 of the 800 hard tokens: without the limit a branch is prepared
    from 610 on and never committed; with it, none is."""
    client = FakeClient()
    rt = asyncio.run(_job(8, None, client))
    assert client.prepared and rt.records == []               # the waste the limit removes
    client = FakeClient()
    rt = asyncio.run(_job(8, 8, client))
    assert client.prepared == [] and rt.records == [] and rt.ends_first == 3


def test_a_job_whose_commit_comes_within_its_limit_still_prepares_it():
    client = FakeClient()
    rt = asyncio.run(_job(10, 10, client))
    assert rt.ends_first == 0
    assert [r.outcome for r in rt.records] == ["ready"] and client.committed == ["b1"]


def test_a_prepared_branch_whose_commit_can_no_longer_come_is_released():
    """Big tool outputs make the commit reachable when the branch is prepared (630 + two
    mean segments of 155 >= 800); a small reply after it leaves one segment before the last
    call: the branch is abandoned at that boundary and nothing more is appended to it."""
    class Abandons(FakeClient):
        def __init__(self):
            super().__init__()
            self.abandoned = []

        async def abandon(self, sid, branch, reason):
            self.abandoned.append((branch, reason))

    async def go(client, max_calls):
        rt = LookaheadRuntime(client, ClearToolResults(ContextBudget(1000), keep_last=1),
                              session_id="s", max_calls=max_calls)
        msgs = [{"role": "system", "content": words(10)}]
        for tool_words in (300, 300, 10):
            msgs = await rt.on_commit(msgs)
            msgs.append({"role": "assistant", "content": words(10)})
            await rt.on_segment_boundary(msgs)
            await rt.wait_prepared()
            msgs.append({"role": "tool", "content": words(tool_words)})
            await rt.on_segment_boundary(msgs)
            await rt.wait_prepared()
        await rt.on_commit(msgs)                       # the last call: 650 < 800
        await asyncio.sleep(0)                         # (the abandon is not awaited)
        return rt

    client = Abandons()
    rt = asyncio.run(go(client, None))                 # the last tool output is caught up
    assert client.prepared and client.appends == 1 and client.abandoned == []
    client = Abandons()
    rt = asyncio.run(go(client, 4))
    assert client.prepared and [b for b, _ in client.abandoned] == ["b1"]
    assert "step limit" in client.abandoned[0][1]
    # released at the small reply (640 + one mean segment of 126 < 800); none started after
    assert rt.ends_first == 2 and rt.records == [] and client.appends == 0


async def _lumpy_job(steps, max_calls):
    """A job of (reply words, tool words) per call against a fake server that prepares at once
    (soft 600, hard 800): where each preparation started (boundary, context), the commits'
    outcomes, and the branches never committed."""
    client = FakeClient()
    rt = LookaheadRuntime(client, ClearToolResults(ContextBudget(1000), keep_last=1),
                          session_id="s", max_calls=max_calls)
    msgs = [{"role": "system", "content": words(10)}]
    starts, boundary = [], 0
    for step in steps + [None]:
        msgs = await rt.on_commit(msgs)
        if step is None:
            break
        for role, n in zip(("assistant", "tool"), step):
            msgs.append({"role": role, "content": words(n)})
            before = len(client.prepared)
            await rt.on_segment_boundary(msgs)
            boundary += 1
            await rt.wait_prepared()
            if len(client.prepared) > before:
                starts.append((boundary, rt.state.tokens))
    unused = set(client.branch_tokens) - set(client.committed)
    return starts, [r.outcome.value for r in rt.records], unused


def test_a_lull_before_the_soft_threshold_does_not_delay_a_commit_that_comes():
    """Two 250-word outputs, then a lull of short ones as the context crosses the soft
    threshold (600, four segments before the last call): over the whole job a segment grows
    it by 66 words (600 + 4 x 66 >= 800), over the last four by 15. The preparation starts
    there, and the commit after the next two big outputs is ready; priced by the lull it would
    start only at the commit's own boundary."""
    lull = [(10, 250), (10, 250)] + [(10, 20)] * 4 + [(10, 250), (10, 250)]
    starts, outcomes, unused = asyncio.run(_lumpy_job(lull, len(lull) + 1))
    assert starts == [(9, 600)] and outcomes == ["ready"] and not unused


def test_a_burst_at_the_end_of_a_job_prepares_nothing():
    """Twelve short steps, then two 250-word outputs cross the soft threshold with two
    segments before the last call: the last four segments (130 a segment) would reach the hard
    threshold, the whole job's pace (23) does not, nor does the context (680). Without the
    limit the branch is prepared and never committed."""
    burst = [(5, 5)] * 12 + [(10, 250), (10, 250), (10, 20)]
    assert asyncio.run(_lumpy_job(burst, len(burst) + 1)) == ([], [], set())
    starts, outcomes, unused = asyncio.run(_lumpy_job(burst, None))
    assert starts == [(28, 650)] and outcomes == [] and unused == {"b1"}


def test_the_replays_miniagent_jobs_leave_no_branch_unused_with_their_step_limit(tmp_path):
    """The benchmark's eight MiniAgent agents (30 steps, 6,000-token budget, their strategies;
    tokens counted as words, the server preparing at once): without the step limit, jobs end
    with a branch prepared and never committed; with it none does, and every commit is
    prepared as before."""
    from benchmark.agent_replay.run import strategy_for
    from benchmark.agent_replay.traces import load_workload

    def count_text(text):
        return len(text.split())

    async def count(messages):
        return sum(count_text(m.get("content") or "") for m in messages)

    async def job(index, trace, max_calls):
        client = FakeClient()
        strategy = strategy_for(index, ContextBudget(6000), str(tmp_path), count_text)
        rt = LookaheadRuntime(client, strategy, session_id=trace.agent_id,
                              count_tokens=count, max_calls=max_calls)
        msgs = [{"role": "system", "content": trace.system},
                {"role": "user", "content": trace.task}]
        for step_no, step in enumerate(trace.steps):
            msgs = await rt.on_commit(msgs)
            if step_no == len(trace.steps) - 1:
                break
            for role, text in (("assistant", step.assistant), ("tool", step.tool_output)):
                msgs.append({"role": role, "content": text})
                await rt.on_segment_boundary(msgs)
                await rt.wait_prepared()
        unused = set(client.branch_tokens) - set(client.committed)
        return [r.outcome for r in rt.records], unused

    traces = load_workload("miniagent", 8, 0, steps=30)
    plain = [asyncio.run(job(i, t, None)) for i, t in enumerate(traces)]
    limited = [asyncio.run(job(i, t, t.step_limit)) for i, t in enumerate(traces)]
    assert {t.step_limit for t in traces} == {30}
    assert sum(len(unused) for _, unused in plain) >= 2
    assert all(not unused for _, unused in limited)
    assert [outcomes for outcomes, _ in limited] == [outcomes for outcomes, _ in plain]
    assert {o for outcomes, _ in plain for o in outcomes} == {"ready"}
