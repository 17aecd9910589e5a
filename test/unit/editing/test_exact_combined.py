"""Exact expected message lists where several rules meet: every ``clear_tool_uses`` field in one
edit (``keep``, ``clear_at_least``, ``exclude_tools``, ``clear_tool_inputs``), ``keep`` covering
every tool use, and three edits in one request (each on the previous one's output)."""
import pytest

from agentrt.editing import EditContext, edit_messages, parse_context_management
from agentrt.editing.edits.clear_tool_uses import PLACEHOLDER

from .helpers import o_call, o_reply, o_result, o_sys, o_user, text, words
from .test_clear_tool_uses import FORMATS, conv, keep, run, tokens


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_clear_tool_uses_field_in_one_edit(fmt):
    """read, grep, read, bash, read; keep 2 (bash and the last read), grep excluded: tool uses
    1 and 3 are cleared, results and (read only) inputs; clear_at_least gates on exactly the
    tokens that frees."""
    fields = dict(trigger=tokens(50), keep=keep(2), exclude_tools=["grep"],
                  clear_tool_inputs=["read"])
    expected = conv(fmt, cleared={1, 3}, inputs_cleared={1, 3})
    freed = words(conv(fmt)) - words(expected)
    result = run(fmt, conv(fmt), clear_at_least=tokens(freed), **fields)
    assert result.messages == expected
    assert result.applied_edits == [{"type": "clear_tool_uses_20250919", "cleared_tool_uses": 2,
                                     "cleared_input_tokens": freed}]
    short = run(fmt, conv(fmt), clear_at_least=tokens(freed + 1), **fields)
    assert short.messages == conv(fmt) and short.applied_edits == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_keep_covering_every_tool_use_clears_nothing(fmt):
    result = run(fmt, conv(fmt), trigger=tokens(1), keep=keep(5), clear_tool_inputs=True)
    assert result.messages == conv(fmt) and result.applied_edits == []
    four = run(fmt, conv(fmt), trigger=tokens(1), keep=keep(4), clear_tool_inputs=True)
    assert four.messages == conv(fmt, cleared={1}, inputs_cleared={1})


def test_three_edits_in_one_request_openai():
    """clear_thinking (last turn's reasoning kept) -> clear_tool_uses (keep 1, inputs too) ->
    sliding_window (trigger 30, keep 25 tokens after the system prompt).

    Tokens after the first two edits (words): sys 3, "one" 1, call t1 1 ("{}"), result t1
    PLACEHOLDER, reply 2, "two" 1, call t2 3 + 1, result t2 PLACEHOLDER, call t3 3 + 2, result
    t3 10: 35 > 30. The latest messages within 25 tokens start at "two" (24; with the reply
    before it, 26), so the window drops "one" .. the first turn's reply."""
    messages = [o_sys(), o_user("one"), o_call("t1", "read", reasoning="plan a b"),
                o_result("t1", text(10, "r1")), o_reply("done one", reasoning="sum up"),
                o_user("two"), o_call("t2", "grep", reasoning="plan c d"),
                o_result("t2", text(10, "r2")), o_call("t3", "read", reasoning="plan e f"),
                o_result("t3", text(10, "r3"))]
    assert len(PLACEHOLDER.split()) == 4
    config = parse_context_management({"edits": [
        {"type": "clear_thinking_20251015"},
        {"type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens", "value": 10},
         "keep": {"type": "tool_uses", "value": 1}, "clear_tool_inputs": True},
        {"type": "sliding_window", "trigger": {"type": "input_tokens", "value": 30},
         "keep": {"type": "input_tokens", "value": 25}}]})
    result = edit_messages(messages, config, None, fmt="openai", ctx=EditContext(words))
    assert result.messages == [
        o_sys(), o_user("two"), o_call("t2", "grep", args="{}", reasoning="plan c d"),
        o_result("t2", PLACEHOLDER), o_call("t3", "read", reasoning="plan e f"),
        o_result("t3", text(10, "r3"))]
    assert result.applied_edits == [
        {"type": "clear_thinking_20251015", "cleared_thinking_turns": 1,
         "cleared_input_tokens": 5},
        {"type": "clear_tool_uses_20250919", "cleared_tool_uses": 2,
         "cleared_input_tokens": 2 * (10 - 4) + 2 * (2 - 1)},
        {"type": "sliding_window", "dropped_messages": 4,
         "cleared_input_tokens": 1 + 1 + 4 + 2}]
    assert result.original_input_tokens - result.input_tokens == 5 + 14 + 8
    assert result.triggered == ("clear_tool_uses_20250919", "sliding_window")
