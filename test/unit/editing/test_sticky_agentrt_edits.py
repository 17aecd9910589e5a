"""Stickiness of agentrt's own edits: a summary is reused byte for byte and re-summarized
incrementally; a window start stays put between triggers; an offload reference is reused."""
import asyncio

from agentrt.editing import (EditContext, apply_context_management, edit_messages,
                             parse_context_management)
from agentrt.editing.edits.summarize import PREFIX
from agentrt.lookahead.strategies.offload import OffloadStore

from .helpers import o_call, o_result, o_sys, o_user, text, words


def history(uses, size=10):
    out = [o_sys(), o_user("fix the bug")]
    for k in range(1, uses + 1):
        out += [o_call(f"t{k}", "read"), o_result(f"t{k}", text(size, f"r{k}"))]
    return out


def test_summary_is_reused_then_resummarized_incrementally():
    config = parse_context_management({"edits": [{"type": "summarize", "trigger": {"tokens": 60},
                                                  "keep": {"messages": 2}}]})
    requests = []

    async def summarizer(request):
        requests.append(request)
        return f"S{len(requests)}"

    def run(uses, state):
        return asyncio.run(apply_context_management(history(uses), config, state, fmt="openai",
                                                    count_tokens=words, summarizer=summarizer))
    first = run(5, None)                          # 66 tokens >= 60
    assert first.messages == [o_sys(), o_user(PREFIX + "S1")] + history(5)[-2:]
    second = run(6, first.state)                  # 6 + 2 + 12 + 12 = 32: reused, no request
    assert second.messages == first.messages + history(6)[-2:] and len(requests) == 1
    third = run(9, second.state)                  # 32 + 36 = 68: summarize again
    assert requests[1].messages[0] == o_user(PREFIX + "S1")       # the old summary goes in
    assert requests[1].messages[1:] == history(9)[10:18]
    assert third.messages == [o_sys(), o_user(PREFIX + "S2")] + history(9)[-2:]
    assert third.applied_edits[0]["summarized_messages"] == 17


def test_window_start_is_sticky_between_triggers():
    config = parse_context_management({"edits": [{
        "type": "sliding_window", "trigger": {"type": "input_tokens", "value": 60},
        "keep": {"type": "input_tokens", "value": 30}}]})

    def run(uses, state):
        return edit_messages(history(uses), config, state, fmt="openai", ctx=EditContext(words))
    first = run(5, None)                          # 66 > 60: keep 24 tokens (2 uses)
    assert first.messages == [o_sys()] + history(5)[-4:]
    second = run(7, first.state)                  # 3 + 24 + 24 = 51: window grows at its end
    assert second.messages == first.messages + history(7)[-4:]
    third = run(8, second.state)                  # 63 > 60: slides again
    assert third.messages == [o_sys()] + history(8)[-4:]


def test_offload_reference_is_reused_without_the_store(tmp_path):
    config = parse_context_management({"edits": [{"type": "offload", "threshold": {
        "type": "input_tokens", "value": 15}}]})
    first = edit_messages(history(2, size=20), config, None, fmt="openai",
                          ctx=EditContext(words, offload_store=OffloadStore(tmp_path)))
    later = history(2, size=20) + [o_user("thanks")]
    again = edit_messages(later, config, first.state, fmt="openai", ctx=EditContext(words))
    assert again.messages == first.messages + [o_user("thanks")]
