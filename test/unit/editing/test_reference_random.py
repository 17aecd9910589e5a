"""``clear_tool_uses_20250919`` against the simple reference on random conversations (both
formats), and the sticky invariants on random growing conversations (hypothesis)."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentrt.editing import EditContext, edit_messages, parse_context_management

from .reference import content_words, reference_clear, to_anthropic

NAMES = ["read", "grep", "bash"]


@st.composite
def conversations(draw, min_turns=0, max_turns=9):
    """OpenAI chat: system, task, then turns of 1-3 parallel calls with their results and
    sometimes a user message."""
    out = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "task"}]
    for t in range(draw(st.integers(min_turns, max_turns))):
        calls = [(f"c{t}_{j}", draw(st.sampled_from(NAMES)), draw(st.integers(0, 30)))
                 for j in range(draw(st.integers(1, 3)))]
        out.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": '{"a": 1}'}}
            for cid, name, _ in calls]})
        out += [{"role": "tool", "tool_call_id": cid, "content": " ".join(["x"] * size)}
                for cid, _, size in calls]
        if draw(st.booleans()):
            out.append({"role": "user", "content": "go on"})
    return out


@st.composite
def edits(draw):
    kind = draw(st.sampled_from(["input_tokens", "tool_uses"]))
    value = draw(st.integers(1, 200) if kind == "input_tokens" else st.integers(1, 10))
    least = draw(st.none() | st.integers(0, 80))
    inputs = draw(st.booleans() | st.lists(st.sampled_from(NAMES), unique=True))
    edit = {"type": "clear_tool_uses_20250919", "trigger": {"type": kind, "value": value},
            "keep": {"type": "tool_uses", "value": draw(st.integers(0, 6))},
            "exclude_tools": draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=2)),
            "clear_tool_inputs": inputs}
    if least is not None:
        edit["clear_at_least"] = {"type": "input_tokens", "value": least}
    return edit


def run(messages, edit, fmt, state=None):
    config = parse_context_management({"edits": [edit]})
    return edit_messages(messages, config, state, fmt=fmt, ctx=EditContext(content_words))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations(), edits())
def test_equals_reference_in_both_formats(messages, edit):
    least = edit.get("clear_at_least", {}).get("value")
    expected, cleared = reference_clear(messages, edit["trigger"]["type"],
                                        edit["trigger"]["value"], edit["keep"]["value"], least,
                                        edit["exclude_tools"], edit["clear_tool_inputs"],
                                        content_words)
    result = run(messages, edit, "openai")
    assert result.messages == expected
    assert [e["cleared_tool_uses"] for e in result.applied_edits] == ([cleared] if cleared else [])
    assert run(to_anthropic(messages), edit, "anthropic").messages == to_anthropic(expected)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations(min_turns=4, max_turns=12), edits(), st.data())
def test_sticky_invariants_on_a_growing_conversation(messages, edit, data):
    """Requests on ever longer prefixes: cleared uses stay cleared, and a request that clears
    nothing new keeps the previous edited prompt as a byte-identical prefix."""
    cuts = sorted(set(data.draw(st.lists(st.integers(2, len(messages)), min_size=2,
                                         max_size=6))))
    state, previous = None, None
    for cut in cuts:
        result = run(messages[:cut], edit, "openai", state)
        if state is not None:
            old, new = state.decisions[0].keys, result.state.decisions[0].keys
            assert old <= new
            if old == new:
                before = json.dumps(previous, sort_keys=True)
                assert json.dumps(result.messages[:len(previous)], sort_keys=True) == before
        state, previous = result.state, result.messages
