"""``clear_tool_uses_20250919``: exact expected message lists in both formats."""
import pytest

from agentrt.editing import EditContext, edit_messages, parse_context_management
from agentrt.editing.edits.clear_tool_uses import PLACEHOLDER

from .helpers import a_call, a_result, a_user, o_call, o_result, o_sys, o_user, text, words

NAMES = ("read", "grep", "read", "bash", "read")


def conv(fmt, cleared=(), inputs_cleared=(), names=NAMES, size=10):
    """sys (OpenAI only) + task + one tool use per name, results ``size`` words; the listed
    tool uses (1-based) have their result / input cleared."""
    out = [o_sys(), o_user("fix the bug")] if fmt == "openai" else [a_user("fix the bug")]
    for k, name in enumerate(names, 1):
        cid, content = f"t{k}", PLACEHOLDER if k in cleared else text(size, f"r{k}")
        if fmt == "openai":
            out += [o_call(cid, name, "{}" if k in inputs_cleared else '{"q": 1}'),
                    o_result(cid, content)]
        else:
            out += [a_call(cid, name, {} if k in inputs_cleared else None),
                    a_result(cid, content)]
    return out


def run(fmt, messages, **edit):
    config = parse_context_management({"edits": [{"type": "clear_tool_uses_20250919", **edit}]})
    return edit_messages(messages, config, None, fmt=fmt, ctx=EditContext(words))


def tokens(value):
    return {"type": "input_tokens", "value": value}


def keep(value):
    return {"type": "tool_uses", "value": value}


FORMATS = ["openai", "anthropic"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_clears_oldest_results_beyond_keep(fmt):
    original = conv(fmt)
    result = run(fmt, original, trigger=tokens(50), keep=keep(2))
    assert result.messages == conv(fmt, cleared={1, 2, 3})
    assert result.applied_edits == [{"type": "clear_tool_uses_20250919", "cleared_tool_uses": 3,
                                     "cleared_input_tokens": 3 * (10 - len(PLACEHOLDER.split()))}]
    assert result.triggered == ("clear_tool_uses_20250919",)
    assert original == conv(fmt)                      # the request's list is never mutated


@pytest.mark.parametrize("fmt", FORMATS)
def test_default_keep_is_three(fmt):
    assert run(fmt, conv(fmt), trigger=tokens(50)).messages == conv(fmt, cleared={1, 2})


@pytest.mark.parametrize("fmt", FORMATS)
def test_trigger_not_exceeded_changes_nothing(fmt):
    total = words(conv(fmt))
    result = run(fmt, conv(fmt), trigger=tokens(total))          # reached only when exceeded
    assert result.messages == conv(fmt) and result.applied_edits == [] and not result.triggered
    assert run(fmt, conv(fmt)).messages == conv(fmt)            # default: 100,000 tokens


@pytest.mark.parametrize("fmt", FORMATS)
def test_exclude_tools_are_never_cleared_but_count_in_keep(fmt):
    result = run(fmt, conv(fmt), trigger=tokens(50), keep=keep(2), exclude_tools=["grep"])
    assert result.messages == conv(fmt, cleared={1, 3})
    assert result.applied_edits[0]["cleared_tool_uses"] == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_clear_tool_inputs_true_and_by_name(fmt):
    both = run(fmt, conv(fmt), trigger=tokens(50), keep=keep(2), clear_tool_inputs=True)
    assert both.messages == conv(fmt, cleared={1, 2, 3}, inputs_cleared={1, 2, 3})
    named = run(fmt, conv(fmt), trigger=tokens(50), keep=keep(2), clear_tool_inputs=["read"])
    assert named.messages == conv(fmt, cleared={1, 2, 3}, inputs_cleared={1, 3})


@pytest.mark.parametrize("fmt", FORMATS)
def test_clear_at_least_gates_the_whole_clearing(fmt):
    freed = 3 * (10 - len(PLACEHOLDER.split()))
    short = run(fmt, conv(fmt), trigger=tokens(50), keep=keep(2), clear_at_least=tokens(freed + 1))
    assert short.messages == conv(fmt) and short.applied_edits == []
    assert short.triggered == ("clear_tool_uses_20250919",)     # reached, but not worth it
    enough = run(fmt, conv(fmt), trigger=tokens(50), keep=keep(2), clear_at_least=tokens(freed))
    assert enough.messages == conv(fmt, cleared={1, 2, 3})


@pytest.mark.parametrize("fmt", FORMATS)
def test_tool_uses_trigger(fmt):
    trigger = {"type": "tool_uses", "value": 5}
    assert run(fmt, conv(fmt), trigger=trigger, keep=keep(1)).messages == conv(fmt)
    trigger["value"] = 4
    assert run(fmt, conv(fmt), trigger=trigger, keep=keep(1)).messages == \
        conv(fmt, cleared={1, 2, 3, 4})


def test_keep_zero_and_parallel_calls_openai():
    calls = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "a", "type": "function", "function": {"name": "x", "arguments": "{}"}},
        {"id": "b", "type": "function", "function": {"name": "y", "arguments": "{}"}}]}
    messages = [o_user("go"), calls, o_result("a", text(9)), o_result("b", text(9))]
    result = run("openai", messages, trigger=tokens(1), keep=keep(0))
    assert result.messages == [o_user("go"), calls, o_result("a", PLACEHOLDER),
                               o_result("b", PLACEHOLDER)]


def test_parallel_results_in_one_anthropic_message():
    call = {"role": "assistant", "content": [
        {"type": "tool_use", "id": "a", "name": "x", "input": {"p": "1"}},
        {"type": "tool_use", "id": "b", "name": "y", "input": {"p": "2"}}]}
    results = {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "a", "content": text(9)},
        {"type": "tool_result", "tool_use_id": "b", "content": [{"type": "text", "text": "z z"}],
         "is_error": True}]}
    result = run("anthropic", [a_user("go"), call, results], trigger=tokens(1), keep=keep(1),
                 clear_tool_inputs=True)
    assert result.messages == [a_user("go"), {"role": "assistant", "content": [
        {"type": "tool_use", "id": "a", "name": "x", "input": {}},
        {"type": "tool_use", "id": "b", "name": "y", "input": {"p": "2"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "a", "content": PLACEHOLDER},
            results["content"][1]]}]
