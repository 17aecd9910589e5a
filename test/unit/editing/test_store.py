"""ConversationStore (LRU by count, TTL on an injected clock), conversation_key, isolation."""
import asyncio

import pytest

from agentrt.editing import (ConversationStore, EditContext, conversation_key,
                             edit_conversation, edit_messages, parse_context_management)

from .helpers import a_user, o_call, o_result, o_sys, o_user, text, words


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


CONFIG = parse_context_management({"edits": [{
    "type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens", "value": 40},
    "keep": {"type": "tool_uses", "value": 1}}]})


def history(task, uses):
    out = [o_sys(), o_user(task)]
    for k in range(1, uses + 1):
        out += [o_call(f"{task[:2]}{k}", "read"), o_result(f"{task[:2]}{k}", text(15))]
    return out


def state_for(uses=3):
    return edit_messages(history("x", uses), CONFIG, None, fmt="openai",
                         ctx=EditContext(words)).state


def test_lru_bound_and_get_refreshes():
    store = ConversationStore(max_conversations=2, clock=Clock())
    store.put("a", state_for())
    store.put("b", state_for())
    assert store.get("a") is not None          # a is now the most recent
    store.put("c", state_for())
    assert store.get("b") is None and store.get("a") is not None and len(store) == 2


def test_ttl_expires_on_the_injected_clock():
    clock = Clock()
    store = ConversationStore(ttl_s=10, clock=clock)
    store.put("a", state_for())
    clock.now = 9
    assert store.get("a") is not None          # used at 9: lives until 19
    clock.now = 18.5
    assert store.get("a") is not None
    clock.now = 29
    assert store.get("a") is None and len(store) == 0
    with pytest.raises(ValueError):
        ConversationStore(max_conversations=0)


def test_conversation_key_order_and_qualification():
    msgs = [o_sys("S"), o_user("task one"), o_call("t", "read")]
    lead = conversation_key(messages=msgs)
    assert lead.startswith("lead:") and lead == conversation_key(messages=msgs[:2])
    assert conversation_key(session_id="s1", routing_key="r", user_id="u",
                            messages=msgs).startswith("session:")
    assert conversation_key(routing_key="r", user_id="u", messages=msgs).startswith("route:")
    user = conversation_key(user_id="u", messages=msgs)
    assert user.startswith("user:") and user.endswith(lead[len("lead:"):])
    assert user != conversation_key(user_id="u", messages=[o_sys("S"), o_user("task two")])
    assert conversation_key(session_id="abc") != conversation_key(routing_key="abc")
    assert conversation_key(messages=[a_user("q")], system="A") != \
        conversation_key(messages=[a_user("q")], system="B")


def drive(store, key, messages):
    return asyncio.run(edit_conversation(store, key, messages, CONFIG, fmt="openai",
                                         count_tokens=words))


def test_two_conversations_never_see_each_others_state():
    store, alone_a, alone_b = ConversationStore(), ConversationStore(), ConversationStore()
    for uses in range(1, 7):
        a, b = history("alpha task", uses), history("beta task", uses + 1)
        ka, kb = conversation_key(messages=a), conversation_key(messages=b)
        assert ka != kb
        assert drive(store, ka, a) == drive(alone_a, ka, a)
        assert drive(store, kb, b) == drive(alone_b, kb, b)


def test_shared_key_never_applies_the_other_history():
    """A client reusing one session id for two conversations gets fresh states, not edits
    made for the other history."""
    store = ConversationStore()
    a, b = history("alpha task", 4), history("beta task", 4)
    drive(store, "same", a)
    result_b = drive(store, "same", b)
    assert not result_b.reused_state
    assert result_b.messages == edit_messages(b, CONFIG, None, fmt="openai",
                                              ctx=EditContext(words)).messages
    assert not drive(store, "same", history("alpha task", 5)).reused_state
    assert drive(store, "same", history("alpha task", 6)).reused_state
