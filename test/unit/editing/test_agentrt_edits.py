"""agentrt's own edits: summarize (injected summarizer), offload (injected store),
sliding_window; exact expected message lists."""
import asyncio

import pytest

from agentrt.editing import (EditContext, EditFailed, SummaryNeeded, apply_context_management,
                             edit_messages, parse_context_management)
from agentrt.editing.edits.summarize import PREFIX
from agentrt.lookahead.strategies.offload import Offload, OffloadStore
from agentrt.lookahead.strategies.summarize import PROMPT
from agentrt.lookahead.strategy import ContextBudget

from .helpers import (a_call, a_reply, a_result, a_user, o_call, o_reply, o_result, o_sys,
                      o_user, text, words)


def config(**edit):
    return parse_context_management({"edits": [edit]})


def openai_tools(n=4, size=10):
    out = [o_sys(), o_user("fix the bug")]
    for k in range(1, n + 1):
        out += [o_call(f"t{k}", "read"), o_result(f"t{k}", text(size, f"r{k}"))]
    return out


class Summarizer:
    def __init__(self, texts=("the summary",)):
        self.texts, self.requests = list(texts), []

    async def __call__(self, request):
        self.requests.append(request)
        return self.texts[len(self.requests) - 1]


def summarize(messages, cfg, fmt="openai", summarizer=None, state=None):
    return asyncio.run(apply_context_management(messages, cfg, state, fmt=fmt,
                                                count_tokens=words, summarizer=summarizer))


def test_summarize_replaces_the_older_part_keeping_system_and_tail():
    messages, summarizer = openai_tools(), Summarizer()
    cfg = config(type="summarize", trigger={"messages": 10}, keep={"messages": 3})
    result = summarize(messages, cfg, summarizer=summarizer)
    # the tail would start on t3's result: it goes into the summary, the tail keeps 2 messages
    assert result.messages == [o_sys(), o_user(PREFIX + "the summary"),
                               o_call("t4", "read"), o_result("t4", text(10, "r4"))]
    request, = summarizer.requests
    assert request.messages == messages[1:8] and request.prompt == PROMPT
    assert request.max_tokens == 256
    assert result.applied_edits[0]["type"] == "summarize"
    assert result.applied_edits[0]["summarized_messages"] == 7


def test_summarize_below_trigger_and_failures():
    cfg = config(type="summarize", trigger={"tokens": 10_000})
    assert summarize(openai_tools(), cfg).messages == openai_tools()
    due = config(type="summarize", trigger={"tokens": 5}, keep={"messages": 2})
    with pytest.raises(EditFailed):
        summarize(openai_tools(), due)                       # no summarizer injected

    async def broken(request):
        raise ConnectionError("server gone")
    with pytest.raises(EditFailed, match="server gone"):
        summarize(openai_tools(), due, summarizer=broken)
    with pytest.raises(SummaryNeeded):                       # the pure core asks for it
        edit_messages(openai_tools(), due, None, fmt="openai", ctx=EditContext(words))


def test_summarize_anthropic():
    messages = [a_user("task"), a_reply("ok"), a_user("more"), a_call("t1", "read"),
                a_result("t1", text(5)), a_reply("done")]
    cfg = config(type="summarize", trigger={"messages": 6}, keep={"messages": 2})
    result = summarize(messages, cfg, fmt="anthropic", summarizer=Summarizer(["S"]))
    assert result.messages == [a_user(PREFIX + "S"), a_reply("done")]


def test_offload_large_older_results(tmp_path):
    messages = [o_user("go"), o_call("t1", "read"), o_result("t1", text(30, "big")),
                o_call("t2", "grep"), o_result("t2", text(5, "small")),
                o_call("t3", "read"), o_result("t3", text(30, "last"))]
    store = OffloadStore(tmp_path)
    cfg = config(type="offload", threshold={"type": "input_tokens", "value": 20})
    result = edit_messages(messages, cfg, None, fmt="openai",
                           ctx=EditContext(words, offload_store=store))
    big = text(30, "big")
    reference = Offload(ContextBudget(1), store).reference(store.put(big), big)
    assert result.messages == messages[:2] + [o_result("t1", reference)] + messages[3:]
    assert store.get(store.put(big)) == big
    assert result.applied_edits[0]["offloaded_tool_results"] == 1


def test_offload_anthropic_text_blocks_and_exclusions(tmp_path):
    body = [{"type": "text", "text": text(25, "a")}, {"type": "text", "text": text(5, "b")}]
    messages = [a_user("go"), a_call("t1", "read"), a_result("t1", body),
                a_call("t2", "shell"), a_result("t2", text(40)), a_reply("done")]
    store = OffloadStore(tmp_path)
    cfg = config(type="offload", threshold={"type": "input_tokens", "value": 20},
                 keep={"type": "tool_uses", "value": 0}, exclude_tools=["shell"])
    result = edit_messages(messages, cfg, None, fmt="anthropic",
                           ctx=EditContext(words, offload_store=store))
    joined = text(25, "a") + "\n" + text(5, "b")
    reference = Offload(ContextBudget(1), store).reference(store.put(joined), joined)
    assert result.messages == messages[:2] + [a_result("t1", reference)] + messages[3:]
    with pytest.raises(EditFailed):                         # no store configured
        edit_messages(messages, cfg, None, fmt="anthropic", ctx=EditContext(words))


def test_sliding_window_openai():
    messages = openai_tools()                             # 3 + 3 + 4 * (2 + 10) = 54 tokens
    cfg = config(type="sliding_window", trigger={"type": "input_tokens", "value": 40},
                 keep={"type": "input_tokens", "value": 25})
    result = edit_messages(messages, cfg, None, fmt="openai", ctx=EditContext(words))
    assert result.messages == [o_sys()] + messages[6:]
    assert result.applied_edits == [{"type": "sliding_window", "dropped_messages": 5,
                                     "cleared_input_tokens": 3 + 2 * 12}]
    below = config(type="sliding_window", trigger={"type": "input_tokens", "value": 54})
    assert edit_messages(messages, below, None, fmt="openai",
                         ctx=EditContext(words)).messages == messages


def test_sliding_window_keeps_the_latest_turn_and_anthropic_starts_on_a_user_message():
    messages = [a_user("one"), a_reply(text(10)), a_user("two"), a_call("t1", "read"),
                a_result("t1", text(30)), a_reply("fine")]
    cfg = config(type="sliding_window", trigger={"type": "input_tokens", "value": 20},
                 keep={"type": "input_tokens", "value": 5})
    result = edit_messages(messages, cfg, None, fmt="anthropic", ctx=EditContext(words))
    assert result.messages == messages[2:]                # latest turn kept though over budget
