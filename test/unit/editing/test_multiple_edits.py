"""Several edits in one request: applied in the listed order, each on the previous output."""
import asyncio

from agentrt.editing import EditContext, apply_context_management, edit_messages, \
    parse_context_management
from agentrt.editing.edits.clear_tool_uses import PLACEHOLDER
from agentrt.editing.edits.summarize import PREFIX

from .helpers import (a_call, a_reply, a_result, a_user, o_call, o_result, o_sys, o_user, text,
                      words)


def test_clear_thinking_then_clear_tool_uses_anthropic():
    messages = [a_user("go"), a_call("t1", "read", thinking="plan one"),
                a_result("t1", text(10)), a_call("t2", "read", thinking="plan two"),
                a_result("t2", text(10)), a_reply("first done", thinking="wrap up"),
                a_user("again"), a_call("t3", "grep", thinking="plan three"),
                a_result("t3", text(10))]
    config = parse_context_management({"edits": [
        {"type": "clear_thinking_20251015"},
        {"type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens", "value": 30},
         "keep": {"type": "tool_uses", "value": 1}}]})
    result = edit_messages(messages, config, None, fmt="anthropic", ctx=EditContext(words))
    assert result.messages == [
        a_user("go"), a_call("t1", "read"), a_result("t1", PLACEHOLDER), a_call("t2", "read"),
        a_result("t2", PLACEHOLDER), a_reply("first done"), a_user("again"),
        a_call("t3", "grep", thinking="plan three"), a_result("t3", text(10))]
    assert result.applied_edits == [
        {"type": "clear_thinking_20251015", "cleared_thinking_turns": 1,
         "cleared_input_tokens": 6},
        {"type": "clear_tool_uses_20250919", "cleared_tool_uses": 2,
         "cleared_input_tokens": 2 * (10 - 4)}]
    assert result.original_input_tokens - result.input_tokens == 6 + 12


def test_clear_tool_uses_then_summarize_sees_the_cleared_view_openai():
    messages = [o_sys(), o_user("go")]
    for k in range(1, 5):
        messages += [o_call(f"t{k}", "read"), o_result(f"t{k}", text(10))]
    config = parse_context_management({"edits": [
        {"type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens", "value": 10},
         "keep": {"type": "tool_uses", "value": 1}},
        {"type": "summarize", "trigger": {"messages": 5}, "keep": {"messages": 2}}]})
    seen = []

    async def summarizer(request):
        seen.append(request.messages)
        return "short"
    result = asyncio.run(apply_context_management(messages, config, None, fmt="openai",
                                                  count_tokens=words, summarizer=summarizer))
    assert seen == [[o_user("go"), o_call("t1", "read"), o_result("t1", PLACEHOLDER),
                     o_call("t2", "read"), o_result("t2", PLACEHOLDER),
                     o_call("t3", "read"), o_result("t3", PLACEHOLDER)]]
    assert result.messages == [o_sys(), o_user(PREFIX + "short"), o_call("t4", "read"),
                               o_result("t4", text(10))]
    assert [e["type"] for e in result.applied_edits] == ["clear_tool_uses_20250919",
                                                         "summarize"]


def test_applied_edits_validate_against_the_pinned_anthropic_sdk():
    from anthropic.types.beta import BetaContextManagementResponse
    messages = [a_user("go"), a_call("t1", "read", thinking="plan one"),
                a_result("t1", text(10)), a_reply("ok", thinking="done"), a_user("more"),
                a_call("t2", "read", thinking="plan two"), a_result("t2", text(10))]
    config = parse_context_management({"edits": [
        {"type": "clear_thinking_20251015"},
        {"type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens", "value": 5},
         "keep": {"type": "tool_uses", "value": 1}}]})
    result = edit_messages(messages, config, None, fmt="anthropic", ctx=EditContext(words))
    parsed = BetaContextManagementResponse.model_validate(result.context_management)
    assert [e.model_dump() for e in parsed.applied_edits] == result.applied_edits
    assert len(result.applied_edits) == 2


def test_malformed_messages_are_left_alone():
    messages = ["junk", {"role": "assistant", "content": None, "tool_calls": "nope"},
                {"role": "user", "content": [{"type": "tool_result"}, 3]},
                {"role": "tool", "content": None}, {"content": "no role"}]
    for fmt in ("openai", "anthropic"):
        config = parse_context_management({"edits": [
            {"type": "clear_thinking_20251015"},
            {"type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens",
                                                             "value": 1}},
            {"type": "sliding_window", "trigger": {"type": "input_tokens", "value": 1}}]})
        result = edit_messages(messages, config, None, fmt=fmt,
                               ctx=EditContext(lambda ms: 10 * len(ms)))
        assert isinstance(result.messages, list)
