"""The server lookahead's pure rules: the ``lookahead`` field, hard triggers, adopting a prepared
edit (tail, prefix rewritten), staleness, and the store's eviction listeners."""
import asyncio

import pytest

from agentrt.editing import (ConversationStore, EditValidationError, edit_messages,
                             parse_context_management)
from agentrt.editing.edits.clear_tool_uses import PLACEHOLDER
from agentrt.editing.lookahead import hard_triggers, next_trigger, settled, soft_reached
from agentrt.editing.prepared import RESULT, EditTransform, stale_reason, tail_after
from agentrt.editing.work import EditContext
from agentrt.lookahead.strategy import TransformError

from .helpers import o_call, o_reply, o_result, o_sys, o_user, text, words

RAW = {"edits": [{"type": "clear_tool_uses_20250919",
                  "trigger": {"type": "input_tokens", "value": 100},
                  "keep": {"type": "tool_uses", "value": 1}}]}
CONFIG = parse_context_management(RAW)


def history(uses, size=20):
    out = [o_sys(), o_user("fix the bug")]         # 6 tokens, then 22 per use
    for k in range(1, uses + 1):
        out += [o_call(f"t{k}", "read"), o_result(f"t{k}", text(size, f"r{k}"))]
    return out


def edit(config=CONFIG, base=None):
    return EditTransform(config, base, fmt="openai", count_tokens=words, summarizer=None,
                         offload_store=None)


def prepared(uses=4):
    return asyncio.run(edit().transform(history(uses), {})).strategy_data[RESULT]


def test_lookahead_field():
    assert CONFIG.lookahead == 0.8
    assert parse_context_management({**RAW, "lookahead": False}).lookahead == 0.0
    assert parse_context_management({**RAW, "lookahead": True}).lookahead == 0.8
    assert parse_context_management({**RAW, "lookahead": {"fraction": 0.5}}).lookahead == 0.5
    assert CONFIG.capacity_aware and not parse_context_management(
        {**RAW, "lookahead": {"capacity_aware": False}}).capacity_aware
    off = parse_context_management({**RAW, "lookahead": False})
    assert off.signature == CONFIG.signature       # turning it off keeps the sticky state
    for bad in ({"fraction": 1}, {"fraction": 0}, {"fraction": True}, {"frac": 0.5}, 3,
                {"capacity_aware": "yes"}):
        with pytest.raises(EditValidationError, match=r"context_management\.lookahead"):
            parse_context_management({**RAW, "lookahead": bad})


def test_hard_triggers_need_a_new_decision():
    probe = dict(fmt="openai", count_tokens=words)
    assert hard_triggers(history(4), CONFIG, None, **probe) == ()      # 94 tokens
    assert hard_triggers(history(5), CONFIG, None, **probe) == (0,)    # 116: clears 4
    held = parse_context_management({"edits": [dict(RAW["edits"][0], clear_at_least={
        "type": "input_tokens", "value": 1000})]})
    assert hard_triggers(history(5), held, None, **probe) == ()  # reached, nothing cleared
    state = edit_messages(history(5), CONFIG, None, fmt="openai", ctx=EditContext(words)).state
    assert hard_triggers(history(5) + [o_reply("ok")], CONFIG, state, **probe) == ()
    # soft_reached: from the soft threshold on, held-back edits included
    assert soft_reached(history(3), CONFIG, None, **probe) == ()         # 72 < 80
    assert soft_reached(history(4), CONFIG, None, **probe) == (0,)
    assert soft_reached(history(5), held, None, **probe) == (0,)


def cleared(k):
    return o_result(f"t{k}", PLACEHOLDER)


def test_a_decomposable_edit_prepares_its_settled_part_and_commits_the_synchronous_edit():
    """keep 1, settled one tool use ahead (the trigger turn brings one): the branch holds t1-t4
    cleared; a later request without a new use settles nothing more; the trigger turn's
    synchronous edit (t5 arrived, t1-t4 cleared, t5 kept) starts with the branch."""
    t = edit()
    assert t.segment_local
    job = asyncio.run(t.transform(history(4), {}))
    assert job.messages == history(4)[:2] + [m for k in (1, 2, 3, 4)
                                             for m in (o_call(f"t{k}", "read"), cleared(k))]
    done = job.strategy_data[RESULT]
    assert t.tail_after(done, job.messages, history(4) + [o_reply("thinking")]) == []
    later = history(5)                                  # the trigger turn: 116 > 100
    state = edit_messages(history(4), CONFIG, None, fmt="openai", ctx=EditContext(words)).state
    sync = t.synchronous(later, state)
    assert sync.messages == job.messages + later[-2:]   # the kept use t5 after the branch
    assert sync.applied_edits[0]["cleared_tool_uses"] == 4
    # a later boundary past the trigger settles t5 too (one more use ahead)
    assert t.tail_after(done, job.messages, later) == [o_call("t5", "read"), cleared(5)]


def test_settled_stops_before_what_a_later_edit_may_rewrite():
    def settled_len(raw, messages):
        config = parse_context_management({"edits": [raw]})
        result = asyncio.run(next_trigger(messages, config, None, fmt="openai",
                                          count_tokens=words))
        return len(settled(messages, config, result, fmt="openai", count_tokens=words))
    base = dict(RAW["edits"][0])
    assert settled_len(base, history(4)) == 8                   # t1-t3, t4 kept
    # inputs cleared too: the kept use's call is unsettled (already excluded with its result)
    assert settled_len(dict(base, clear_tool_inputs=True), history(4)) == 8
    # excluded tools are never rewritten: settled through them
    assert settled_len(dict(base, exclude_tools=["read"]), history(4)) == len(history(4))
    # held back by clear_at_least: nothing cleared, nothing settled after the head
    assert settled_len(dict(base, clear_at_least={"type": "input_tokens", "value": 1000}),
                       history(4)) == 2
    thinking = [o_sys(), o_user("a"), o_reply("x", reasoning="r1"), o_user("b"),
                o_reply("y", reasoning="r2"), o_user("c")]
    assert settled_len({"type": "clear_thinking_20251015"}, thinking) == 4   # r2 is kept
    assert settled_len({"type": "clear_thinking_20251015", "keep": "all"}, thinking) == 6
    # a settled part that edits nothing is nothing to prepare: the Preparer's "unchanged"
    held = parse_context_management({"edits": [dict(base, clear_at_least={
        "type": "input_tokens", "value": 1000})]})
    assert asyncio.run(edit(held).transform(history(4), {})).messages == history(4)


def test_a_whole_prefix_edit_adopts_the_prepared_state():
    window = parse_context_management({"edits": [{
        "type": "sliding_window", "trigger": {"type": "input_tokens", "value": 100},
        "keep": {"type": "input_tokens", "value": 50}}]})
    t = edit(window)
    assert not t.segment_local
    job = asyncio.run(t.transform(history(4), {}))
    done = job.strategy_data[RESULT]
    assert job.messages == done.messages
    later = history(4) + [o_reply("done")]
    assert t.tail_after(done, job.messages, later) == [o_reply("done")]
    assert t.adopt(done, later).messages == done.messages + [o_reply("done")]
    with pytest.raises(TransformError, match="rewrites the prepared prefix"):
        t.tail_after(done, job.messages, history(12))          # the window slides again
    with pytest.raises(TransformError):
        tail_after([o_user("a")], [o_user("b"), o_user("c")])


def test_stale_reasons():
    done = prepared(4).state
    later = history(5)
    current = edit_messages(later, CONFIG, None, fmt="openai", ctx=EditContext(words)).state
    assert stale_reason(done, current, later, CONFIG) is None
    forked = [dict(m) for m in later]
    forked[3] = o_result("t1", "forked")
    assert "forked" in stale_reason(done, current, forked, CONFIG)
    other = parse_context_management({"edits": [dict(RAW["edits"][0], keep={
        "type": "tool_uses", "value": 2})]})
    assert "configuration" in stale_reason(done, current, later, other)
    assert "reset" in stale_reason(done, None, later, CONFIG)


def test_failed_transform_is_a_transform_error():
    summarize = parse_context_management({"edits": [{"type": "summarize",
                                                     "trigger": {"tokens": 50},
                                                     "keep": {"messages": 2}}]})

    async def failing(request):
        raise RuntimeError("no model")
    t = EditTransform(summarize, None, fmt="openai", count_tokens=words, summarizer=failing,
                      offload_store=None)
    with pytest.raises(TransformError, match="summary request failed"):
        asyncio.run(t.transform(history(4), {}))


def test_store_tells_listeners_of_evictions():
    now = [0.0]
    store = ConversationStore(max_conversations=2, ttl_s=10, clock=lambda: now[0])
    dropped = []
    store.on_evict.append(dropped.append)
    state = prepared(4).state
    store.put("a", state)
    store.put("b", state)
    store.put("a", state)                          # replaced: not an eviction
    store.put("c", state)                          # LRU bound: b goes
    assert dropped == ["b"]
    now[0] = 11.0
    assert store.get("a") is None and sorted(dropped) == ["a", "b", "c"]
    store.put("d", state)
    store.discard("d")
    assert dropped[-1] == "d"
