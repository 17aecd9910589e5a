"""Each strategy's transform on a fixed conversation: exact outputs, no mutation, pure."""
import asyncio

import pytest

from agentrt.lookahead.strategies import (STRATEGIES, ClearToolResults, Offload, SlidingWindow,
                                          SubAgent, Summarize)
from agentrt.lookahead.strategies.offload import OffloadStore
from agentrt.lookahead.strategy import (ContextBudget, MainState, TransformError, clone,
                                        signature)

BUDGET = ContextBudget(1000)
CONV = [
    {"role": "system", "content": "sys"},
    {"role": "user", "content": "task"},
    {"role": "assistant", "content": "call 1"},
    {"role": "tool", "content": "x" * 400},
    {"role": "assistant", "content": "call 2"},
    {"role": "tool", "content": "short"},
    {"role": "assistant", "content": "call 3"},
    {"role": "tool", "content": "y" * 40},
]


def run(coro):
    return asyncio.run(coro)


def test_registry_names():
    assert set(STRATEGIES) == {"offload", "sliding_window", "summarize", "clear_tool_results",
                               "subagent"}


def test_thresholds():
    s = ClearToolResults(ContextBudget(1000, soft=0.6, hard=0.8))
    assert not s.should_lookahead(MainState([], 599)) and s.should_lookahead(MainState([], 600))
    assert not s.should_commit(MainState([], 799)) and s.should_commit(MainState([], 800))
    with pytest.raises(ValueError):
        ContextBudget(100, soft=0.9, hard=0.5)


def test_signature_depends_only_on_prefix():
    longer = CONV + [{"role": "user", "content": "more"}]
    assert signature(CONV) == signature(longer, len(CONV))
    changed = clone(CONV)
    changed[1]["content"] = "other"
    assert signature(changed, 2) != signature(CONV, 2)


def test_offload_writes_store_and_is_deterministic(tmp_path):
    store = OffloadStore(tmp_path)
    s = Offload(BUDGET, store, limit_tokens=50)
    before = clone(CONV)
    t1 = run(s.transform(CONV, {}, None))
    t2 = run(s.transform(CONV, {}, None))
    assert CONV == before and t1.messages == t2.messages
    ref = t1.messages[3]["content"]
    assert ref.startswith("[tool output offloaded to ") and "400 characters" in ref
    path = next(iter(t1.strategy_data["offloaded"]))
    assert store.get(path) == "x" * 400
    assert t1.messages[5]["content"] == "short" and t1.messages[7]["content"] == "y" * 40
    again = run(s.transform(t1.messages, t1.strategy_data, None))   # idempotent
    assert again.messages == t1.messages
    with pytest.raises(ValueError):
        store.get("/etc/passwd")


def test_sliding_window_by_turns_and_tokens():
    t = run(SlidingWindow(BUDGET, keep_turns=3).transform(CONV, {}, None))
    assert [m["content"] for m in t.messages] == ["sys", "call 3", "y" * 40]
    assert t.strategy_data["dropped"] == 5
    t = run(SlidingWindow(BUDGET, keep_tokens=12).transform(CONV, {}, None))
    assert t.messages[0]["content"] == "sys" and t.messages[1]["role"] != "tool"
    # a window smaller than the latest turn still keeps that turn (call and output)
    t = run(SlidingWindow(BUDGET, keep_tokens=1).transform(CONV, {}, None))
    assert [m["content"] for m in t.messages] == ["sys", "call 3", "y" * 40]
    with pytest.raises(ValueError):
        SlidingWindow(BUDGET)


def test_clear_tool_results_keeps_last_n():
    t = run(ClearToolResults(BUDGET, keep_last=1).apply(CONV, {}, None))
    assert [m["content"] for m in t.messages if m["role"] == "tool"] == \
        ["[old tool result cleared]", "[old tool result cleared]", "y" * 40]
    assert t.strategy_data == {"cleared": 2}


def test_summarize_calls_llm_on_older_prefix_and_keeps_tail():
    seen = []

    async def llm(messages, max_tokens):
        seen.append((len(messages), max_tokens))
        return " facts "

    past_hard = ContextBudget(100)           # CONV is ~115 tokens: a synchronous commit
    t = run(Summarize(past_hard, keep_tail_tokens=12, summary_tokens=32).transform(CONV, {}, llm))
    assert t.messages[0] == CONV[0]
    assert t.messages[1] == {"role": "user",
                             "content": "Summary of the earlier conversation: facts"}
    assert t.messages[2:] == CONV[6:] and seen[0][1] == 32


def test_summarize_failure_is_a_transform_error():
    async def broken(messages, max_tokens):
        raise TimeoutError("slow")

    with pytest.raises(TransformError, match="summary request failed"):
        run(Summarize(BUDGET, keep_tail_tokens=5).transform(CONV, {}, broken))
    with pytest.raises(TransformError):
        run(Summarize(BUDGET).transform(CONV, {}, None))


def test_summarize_tool_outputs_only_keeps_reasoning():
    async def llm(messages, max_tokens):
        return "gist"

    t = run(Summarize(BUDGET, keep_tail_tokens=5, tool_outputs_only=True).transform(CONV, {}, llm))
    assert [m["content"] for m in t.messages if m["role"] == "assistant"] == \
        ["call 1", "call 2", "call 3"]
    assert t.messages[3]["content"] == "[summary] gist"


def test_subagent_first_prompt():
    t = run(SubAgent(BUDGET, "you are a sub-agent", "fix the bug", recent_tokens=12)
            .transform(CONV, {}, None))
    assert t.messages[0] == {"role": "system", "content": "you are a sub-agent"}
    assert t.messages[-1]["content"] == "Your task as a sub-agent: fix the bug"
    assert all(m["role"] != "system" for m in t.messages[1:])


def test_a_window_prepared_before_the_hard_threshold_leaves_room_for_what_arrives():
    """CONV is ~115 tokens (chars / 4); at the hard threshold the window keeps keep_tokens,
    prepared 30 tokens before it the window keeps 30 fewer."""
    at_hard = SlidingWindow(ContextBudget(140), keep_tokens=114)     # hard 112: no room left
    early = SlidingWindow(ContextBudget(181), keep_tokens=114)       # hard 144: ~30 to come
    assert at_hard.commit_reserve(CONV, at_hard.count_tokens) == 0
    reserve = early.commit_reserve(CONV, early.count_tokens)
    assert 25 <= reserve <= 35
    assert run(at_hard.transform(CONV, {}, None)).messages == CONV[:1] + CONV[2:]
    assert run(early.transform(CONV, {}, None)).messages == CONV[:1] + CONV[4:]
