"""A commit never leaves the context above the soft threshold, for every strategy; segment-local
strategies append transformed segments in catch-up, so their commit is exactly the synchronous
transform (fake server client: a token is a word)."""
import asyncio

import pytest

from agentrt.lookahead.runtime import LookaheadRuntime
from agentrt.lookahead.strategies import ClearToolResults, Offload, SlidingWindow, Summarize
from agentrt.lookahead.strategies.offload import OffloadStore
from agentrt.lookahead.strategy import ContextBudget

from .test_runtime_start import FakeClient, words

BUDGET = ContextBudget(1000)


class WordClient(FakeClient):
    """Keeps each branch's tokens (a catch-up that does not extend the branch fails)."""


def count_words(text: str) -> int:
    return len(text.split())


async def summary_llm(messages, max_tokens):
    return "the agent read files and found nothing wrong"


def strategies(tmp_path):
    return {
        "clear_keep_1": ClearToolResults(BUDGET, keep_last=1),
        "clear_keep_2": ClearToolResults(BUDGET, keep_last=2),
        "clear_keep_0": ClearToolResults(BUDGET, keep_last=0),
        "offload": Offload(BUDGET, OffloadStore(tmp_path), limit_tokens=20,
                           count_tokens=count_words, digest_chars=20),
        "window": SlidingWindow(BUDGET, keep_tokens=200, count_tokens=count_words),
        "summarize": Summarize(BUDGET, keep_tail_tokens=200, count_tokens=count_words),
    }


async def _run(strategy, steps=14, output_words=lambda step: 59, system_words=30,
               enabled=True):
    """An agent loop: per step a reply (20 words) and a tool output (60 by default); the outcome
    and the context's tokens after each commit (``enabled=False``: the synchronous baseline)."""
    client = FakeClient()
    rt = LookaheadRuntime(client, strategy, session_id="s", llm=summary_llm, enabled=enabled)
    msgs = [{"role": "system", "content": words(system_words)}]
    after_commits = []
    for step in range(steps):
        before = len(rt.records)
        msgs = await rt.on_commit(msgs)
        if len(rt.records) > before:
            after_commits.append((rt.records[-1].outcome, len(await client.tokenize(msgs))))
        msgs.append({"role": "assistant", "content": words(20)})
        await rt.on_segment_boundary(msgs)
        msgs.append({"role": "tool", "content": f"out{step} " + words(output_words(step))})
        await rt.on_segment_boundary(msgs)
        await rt.wait_prepared()
    await rt.close()
    return after_commits


@pytest.mark.parametrize("name", ["clear_keep_1", "clear_keep_2", "clear_keep_0", "offload",
                                  "window", "summarize"])
def test_every_commit_leaves_the_context_below_soft(name, tmp_path):
    after = asyncio.run(_run(strategies(tmp_path)[name]))
    assert after, "the loop reaches the hard threshold"
    assert all(outcome == "ready" for outcome, _ in after), after
    assert all(tokens < BUDGET.soft_tokens for _, tokens in after), after


def test_clearing_clears_a_large_kept_output_rather_than_commit_above_soft():
    """Every fourth output is 300 words: keeping the last two would leave commits above the
    soft threshold (600 words), each followed soon by another commit; the cap clears the older
    of them instead (the most recent output is kept until answered, so it cannot help when
    that one alone is too large)."""
    big = lambda step: 299 if step % 4 == 2 else 59     # noqa: E731
    uncapped = ClearToolResults(BUDGET, keep_last=2, count_tokens=lambda s: 0)
    capped = ClearToolResults(BUDGET, keep_last=2, count_tokens=count_words)
    before = asyncio.run(_run(uncapped, 16, big))
    assert any(tokens >= BUDGET.soft_tokens for _, tokens in before)
    after = asyncio.run(_run(capped, 16, big))
    assert len(after) >= 2 and all(tokens < BUDGET.soft_tokens for _, tokens in after), after
    assert len(after) < len(before)


def test_an_answered_output_too_large_to_keep_is_cleared_ahead_of_the_next_commit():
    """A 560-word system prompt: every commit leaves the context above the soft threshold with
    only the most recent output kept, and the next output crosses the hard one at once. The
    preparation after a commit clears that output once it is answered, so every commit but the
    first (the agent's pace unknown yet) is prepared, and each equals the synchronous one."""
    def run(enabled):
        return asyncio.run(_run(ClearToolResults(BUDGET, keep_last=2, count_tokens=count_words),
                                6, lambda step: 149, system_words=560, enabled=enabled))
    prepared, synchronous = run(True), run(False)
    assert len(prepared) >= 3 and all(tokens >= BUDGET.soft_tokens for _, tokens in prepared)
    assert [o for o, _ in prepared[1:]] == ["ready"] * (len(prepared) - 1), prepared
    assert [t for _, t in prepared] == [t for _, t in synchronous]


def test_clearing_never_clears_an_unanswered_output_and_its_end_only_moves_forward():
    strategy = ClearToolResults(BUDGET, keep_last=3, count_tokens=count_words)
    msgs, ends = [{"role": "system", "content": words(30)}], []
    for step in range(12):
        msgs = msgs + [{"role": "assistant", "content": words(20)},
                       {"role": "tool", "content": words(700 if step == 9 else 60)}]
        ends.append(strategy.segment_end(msgs))
    assert ends == sorted(ends)
    assert ends[9] == len(msgs) - 5     # the 700-word output alone is over soft: kept, not cleared
    assert ends[-1] == len(msgs) - 3     # the 700-word output cleared, the last two kept


@pytest.mark.parametrize("name", ["clear_keep_0", "clear_keep_1", "clear_keep_2", "offload"])
def test_segment_local_commit_equals_the_synchronous_transform(name, tmp_path):
    async def go():
        strategy = strategies(tmp_path)[name]
        assert strategy.segment_local
        client = WordClient()
        rt = LookaheadRuntime(client, strategy, session_id="s")
        msgs = [{"role": "system", "content": words(30)}]
        while not strategy.should_commit(rt.state):
            msgs = msgs + [{"role": "assistant", "content": words(20)},
                           {"role": "tool", "content": f"out{len(msgs)} " + words(59)}]
            await rt.on_segment_boundary(msgs)
            await rt.wait_prepared()
        committed = await rt.on_commit(msgs)
        sync = (await strategy.apply(msgs, {}, None)).messages
        assert rt.records[-1].outcome == "ready" and committed == sync
        # the branch (snapshot + catch-ups) is a prefix of the committed context
        await rt.settle()
        branch = client.branch_tokens[client.committed[-1]]
        assert len(branch) > client.prepared[-1]                 # caught up at least once
        assert (await client.tokenize(committed))[:len(branch)] == branch
        await rt.close()

    asyncio.run(go())


def test_a_strategy_that_is_not_segment_local_keeps_later_segments_as_they_are():
    assert not SlidingWindow(BUDGET, keep_turns=3).segment_local
    assert not Summarize(BUDGET, keep_tail_tokens=200).segment_local


def test_clearing_keeps_the_last_n_tool_outputs_past_the_segment_end():
    msgs = [{"role": "system", "content": "s"}]
    for i in range(4):
        msgs += [{"role": "assistant", "content": f"call {i}"},
                 {"role": "tool", "content": f"out {i}"}]
    strategy = ClearToolResults(BUDGET, keep_last=2)
    end = strategy.segment_end(msgs)
    assert end == 6 and msgs[end]["content"] == "out 2"
    prefix = asyncio.run(strategy.transform(msgs[:end], {}, None))
    assert [m["content"] for m in prefix.messages if m["role"] == "tool"] == \
        ["[old tool result cleared]"] * 2
    assert ClearToolResults(BUDGET, keep_last=5).segment_end(msgs) == 2    # nothing to clear


def test_a_boundary_with_nothing_final_to_append_sends_no_catch_up():
    """Clearing keeps the last two outputs out of catch-ups: the boundary after a reply adds
    nothing final (the previous output may still be kept), so it costs no append call."""
    async def go():
        client = FakeClient()
        rt = LookaheadRuntime(client, ClearToolResults(BUDGET, keep_last=2), session_id="s")
        msgs = [{"role": "system", "content": words(30)}]
        calls = []
        while not rt.strategy.should_commit(rt.state):
            for message in ({"role": "assistant", "content": words(20)},
                            {"role": "tool", "content": f"out{len(msgs)} " + words(59)}):
                msgs = msgs + [message]
                before = client.appends
                await rt.on_segment_boundary(msgs)
                await rt.wait_prepared()
                calls.append((message["role"], client.appends - before))
        await rt.close()
        assert any(n for role, n in calls if role == "tool")        # outputs are caught up
        assert not any(n for role, n in calls if role == "assistant"), calls

    asyncio.run(go())
