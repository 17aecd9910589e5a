"""Arbitrary JSON never breaks the core: parsing raises only ``EditValidationError`` (400),
editing never raises on any message shapes under a valid configuration."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agentrt.editing as editing
from agentrt.editing import EditContext, EditValidationError, edit_messages, \
    parse_context_management

KEYS = ["type", "value", "keep", "trigger", "edits", "role", "content", "tool_calls", "id",
        "tool_call_id", "tool_use_id", "name", "input", "function", "arguments", "thinking",
        "reasoning_content", "exclude_tools", "clear_at_least", "clear_tool_inputs", "tokens",
        "messages"]
SCALARS = st.none() | st.booleans() | st.integers(-3, 200) | st.sampled_from(
    ["clear_tool_uses_20250919", "clear_thinking_20251015", "summarize", "offload",
     "sliding_window", "input_tokens", "tool_uses", "thinking_turns", "all", "user",
     "assistant", "tool", "tool_use", "tool_result", "thinking", "text", "a b c"])
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4), max_leaves=25)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_parse_raises_only_validation_errors(value):
    try:
        parse_context_management(value)
    except EditValidationError as err:
        assert err.status == 400 and str(err).startswith("context_management")


CONFIG = parse_context_management({"edits": [
    {"type": "clear_thinking_20251015"},
    {"type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens", "value": 1},
     "keep": {"type": "tool_uses", "value": 0}, "clear_tool_inputs": True},
    {"type": "sliding_window", "trigger": {"type": "input_tokens", "value": 3}}]})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(JSON, max_size=8), st.sampled_from(["openai", "anthropic"]))
def test_editing_any_messages_never_raises(messages, fmt):
    result = edit_messages(messages, CONFIG, None, fmt=fmt,
                           ctx=EditContext(lambda ms: len(str(ms)) // 8))
    assert isinstance(result.messages, list)


def test_package_face():
    for name in editing.__all__:
        assert getattr(editing, name) is not None


def test_unhashable_ids_are_ignored():
    messages = [{"role": "assistant", "content": [{"type": "tool_use", "id": ["x"]}],
                 "tool_calls": [{"id": {"a": 1}, "function": {"name": ["n"]}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": ["x"]}]},
                {"role": "tool", "tool_call_id": {"a": 1}, "content": "c"}]
    for fmt in ("openai", "anthropic"):
        edit_messages(messages, CONFIG, None, fmt=fmt, ctx=EditContext(lambda ms: 100))
