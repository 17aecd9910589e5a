"""Sticky state across a growing conversation: the edited prefix is byte-identical until the
next trigger; a forked history or a changed configuration starts fresh."""
import json

from agentrt.editing import EditContext, edit_messages, parse_context_management

from .helpers import o_call, o_result, o_sys, o_user, text, words

CONFIG = parse_context_management({"edits": [{
    "type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens", "value": 100},
    "keep": {"type": "tool_uses", "value": 2},
    "clear_at_least": {"type": "input_tokens", "value": 40}}]})


def history(uses: int, first="fix the bug"):
    out = [o_sys(), o_user(first)]
    for k in range(1, uses + 1):
        out += [o_call(f"t{k}", "read"), o_result(f"t{k}", text(20, f"r{k}"))]
    return out


def dump(messages):
    return json.dumps(messages, sort_keys=True)


def run(messages, state, config=CONFIG):
    return edit_messages(messages, config, state, fmt="openai", ctx=EditContext(words))


def test_prefix_is_byte_identical_between_triggers():
    state, previous, changed = None, None, []
    for k in range(1, 13):
        result = run(history(k), state)
        assert result.reused_state == (state is not None)
        if state is not None and result.state.decisions != state.decisions:
            changed.append(k)
        elif previous is not None:
            assert dump(result.messages[:len(previous)]) == dump(previous)
            assert result.messages[len(previous):] == history(k)[len(previous):]
        state, previous = result.state, result.messages
    # 6 + 22k tokens; each use cleared frees 16; clear_at_least 40 needs 3 uses at once
    assert changed == [5, 8, 11]
    assert run(history(5), None).applied_edits[0]["cleared_tool_uses"] == 3


def test_stateless_evaluation_changes_the_prefix_every_turn():
    """What Anthropic's per-request evaluation does (a fresh state each time)."""
    previous, changed = run(history(5), None).messages, 0
    for k in range(6, 13):
        messages = run(history(k), None).messages
        changed += dump(messages[:len(previous)]) != dump(previous)
        previous = messages
    assert changed == 7


def test_cleared_uses_stay_cleared_even_when_keep_would_now_keep_them():
    first = run(history(5), None)
    cleared = first.messages[:8]
    later = run(history(6), first.state)
    assert later.messages[:8] == cleared and later.reused_state


def test_forked_history_starts_fresh():
    first = run(history(6), None)
    fork = history(7, first="a different task")
    forked = run(fork, first.state)
    assert not forked.reused_state
    assert forked.messages == run(fork, None).messages


def test_changed_configuration_starts_fresh():
    first = run(history(6), None)
    other = parse_context_management({"edits": [{"type": "clear_tool_uses_20250919",
                                                 "trigger": {"type": "input_tokens",
                                                             "value": 50}}]})
    assert not run(history(7), first.state, other).reused_state


def test_retry_of_the_same_history_is_identical():
    first = run(history(8), run(history(7), run(history(5), None).state).state)
    again = run(history(8), first.state)
    assert again.messages == first.messages and again.state == first.state
