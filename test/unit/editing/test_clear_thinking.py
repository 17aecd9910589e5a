"""``clear_thinking_20251015``: turns, keep, both formats (a tool loop is one turn)."""
import pytest

from agentrt.editing import EditContext, edit_messages, parse_context_management

from .helpers import (a_call, a_reply, a_result, a_user, o_call, o_reply, o_result, o_user,
                      words)


def conv(fmt, stripped=()):
    """Three assistant turns with thinking; turn 2 is a tool loop (call, result, reply)."""
    def think(turn, part=""):
        return None if turn in stripped else f"think {turn}{part} hard"
    if fmt == "openai":
        out = [o_user("one"), o_reply("a", think(1)), o_user("two"),
               o_call("t1", "read", reasoning=think(2, "a")), o_result("t1", "file body"),
               o_reply("b", think(2, "b")), o_user("three"), o_reply("c", think(3))]
        return [{k: v for k, v in m.items() if not (k == "reasoning_content" and v is None)}
                for m in out]
    return [a_user("one"), a_reply("a", think(1)), a_user("two"),
            a_call("t1", "read", thinking=think(2, "a")), a_result("t1", "file body"),
            a_reply("b", think(2, "b")), a_user("three"), a_reply("c", think(3))]


def run(fmt, messages, **edit):
    config = parse_context_management({"edits": [{"type": "clear_thinking_20251015", **edit}]})
    return edit_messages(messages, config, None, fmt=fmt, ctx=EditContext(words))


@pytest.mark.parametrize("fmt", ["openai", "anthropic"])
def test_default_keeps_only_the_last_turns_thinking(fmt):
    result = run(fmt, conv(fmt))
    assert result.messages == conv(fmt, stripped={1, 2})
    assert result.applied_edits == [{"type": "clear_thinking_20251015",
                                     "cleared_thinking_turns": 2, "cleared_input_tokens": 9}]
    assert result.triggered == ()                     # no trigger: applied on every request


@pytest.mark.parametrize("fmt", ["openai", "anthropic"])
def test_keep_two_turns_and_all(fmt):
    keep = {"type": "thinking_turns", "value": 2}
    assert run(fmt, conv(fmt), keep=keep).messages == conv(fmt, stripped={1})
    everything = run(fmt, conv(fmt), keep="all")
    assert everything.messages == conv(fmt) and everything.applied_edits == []


def test_redacted_thinking_is_thinking_too():
    old = {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "xx"},
                                            {"type": "text", "text": "a"}]}
    messages = [a_user("one"), old, a_user("two"), a_reply("b", "new thought")]
    assert run("anthropic", messages).messages == [
        a_user("one"), {"role": "assistant", "content": [{"type": "text", "text": "a"}]},
        a_user("two"), a_reply("b", "new thought")]


def test_openai_reasoning_key_is_dropped_too():
    messages = [o_user("one"), {"role": "assistant", "content": "a", "reasoning": "r r"},
                o_user("two"), o_reply("b", "keep me")]
    assert run("openai", messages).messages == [o_user("one"),
                                                {"role": "assistant", "content": "a"},
                                                o_user("two"), o_reply("b", "keep me")]
