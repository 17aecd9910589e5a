"""Lookahead hooks: soft triggers, and the prepared result that a commit reproduces."""
import asyncio

from agentrt.editing import (EditContext, apply_context_management, edit_messages, next_trigger,
                             parse_context_management, soft_triggers)

from .helpers import o_reply, tool_history, words

CONFIG = parse_context_management({"edits": [
    {"type": "clear_thinking_20251015"},
    {"type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens", "value": 100},
     "keep": {"type": "tool_uses", "value": 1}}]})


history = tool_history


def soft(messages, state=None, fraction=0.8):
    return soft_triggers(messages, CONFIG, state, fmt="openai", count_tokens=words,
                         fraction=fraction)


def test_soft_trigger_window():
    assert soft(history(3)) == ()                  # 72 tokens < 80
    assert soft(history(4)) == (1,)                # 94: soft reached, hard (100) not
    assert soft(history(5)) == ()                  # 116: the hard trigger is reached
    assert soft(history(3), fraction=0.5) == (1,)


def test_commit_from_the_prepared_state_reproduces_the_branch():
    prepared = asyncio.run(next_trigger(history(4), CONFIG, None, fmt="openai",
                                        count_tokens=words))
    assert prepared.triggered == ("clear_tool_uses_20250919",)
    assert prepared.applied_edits[0]["cleared_tool_uses"] == 3
    # later turns arrive; at the commit the server adopts the prepared state
    later = history(5) + [o_reply("done")]
    commit = edit_messages(later, CONFIG, prepared.state, fmt="openai", ctx=EditContext(words))
    assert commit.messages == prepared.messages + later[len(history(4)):]
    assert commit.triggered == ()                  # 46 + 22 + 1 tokens: below the trigger


def test_probing_stores_and_summarizes_nothing():
    cfg = parse_context_management({"edits": [{"type": "summarize", "trigger": {"tokens": 100},
                                               "keep": {"messages": 2}}]})
    assert soft_triggers(history(4), cfg, None, fmt="openai", count_tokens=words) == (0,)


def test_prepared_summary_is_what_the_commit_serves():
    cfg = parse_context_management({"edits": [{"type": "summarize", "trigger": {"tokens": 200},
                                               "keep": {"messages": 2}}]})
    calls = []

    async def summarizer(request):
        calls.append(request.key)
        return "prepared summary"
    prepared = asyncio.run(next_trigger(history(4), cfg, None, fmt="openai", count_tokens=words,
                                        summarizer=summarizer))
    later = history(6)
    commit = asyncio.run(apply_context_management(later, cfg, prepared.state, fmt="openai",
                                                  count_tokens=words, summarizer=summarizer))
    assert commit.messages == prepared.messages + later[len(history(4)):]
    assert len(calls) == 1                         # the commit needed no new summary

