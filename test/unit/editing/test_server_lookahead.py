"""EditLookahead (the server's lookahead of its context edits) on fake in-process ops: a soft turn
prepares one branch (a decomposable edit's settled part), later turns catch it up, the trigger
turn commits it with the synchronous edit; a whole-prefix edit that slides on is served reusing
the branch; a forked history releases it as stale; the store's eviction closes the tree
session; a session another client opened gets no lookahead."""
import asyncio
import json

from agentrt.editing import ConversationStore, parse_context_management
from agentrt.lookahead.client import ServerError
from agentrt.server.editing.lookahead import EditLookahead

from .helpers import o_call, o_reply, o_result, o_user, text, tool_history, words

CONFIG = parse_context_management({"edits": [{
    "type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens", "value": 100},
    "keep": {"type": "tool_uses", "value": 1}}]})


history = tool_history


class FakeEncoding:
    """The conversation's tokens as FakeOps tokenizes them (one per message)."""

    async def tokens(self, messages):
        return await FakeOps().tokenize(messages)


class FakeOps:
    """Token ids: one per message (prefix-stable, like a chat template); every branch is ready
    as soon as it is prepared or appended."""

    def __init__(self, refuse_open=False):
        self.calls, self.refuse_open, self.branch_tokens = [], refuse_open, 0

    async def tokenize(self, messages, add_generation_prompt=False, session_id=None):
        return [hash(json.dumps(m, sort_keys=True)) % 1000 for m in messages]

    async def open_session(self, sid, tokens=None):
        self.calls.append(("open", sid))
        if self.refuse_open:
            raise ServerError(409, "already open")
        return {}

    async def prepare(self, sid, tokens, strategy, version, source_signature, wait=True,
                      promote=False, window_s=None, later_window_s=None, commit_tokens=None):
        self.calls.append(("prepare", sid, len(tokens)))
        self.branch_tokens = len(tokens)
        return {"id": f"b{version}", "outcome": "ready", "reason": "", "tokens": len(tokens)}

    async def append(self, sid, bid, tokens, wait=True, promote=False):
        self.calls.append(("append", bid, len(tokens) - self.branch_tokens))
        self.branch_tokens = len(tokens)
        return {"id": bid, "outcome": "ready", "reason": "", "tokens": self.branch_tokens}

    async def _record(self, *call):
        self.calls.append(call)
        return {}

    def commit(self, sid, bid):
        return self._record("commit", bid)

    def abandon(self, sid, bid, reason, keep_cache=False):
        return self._record("abandon", bid, keep_cache)

    def mark_stale(self, sid, bid, reason):
        return self._record("stale", bid)

    def close_session(self, sid):
        return self._record("close", sid)

    def promote(self, sid):
        return self._record("promote", sid)


class Editor:
    count_tokens, summarize, offload = staticmethod(words), None, None


async def settle(driver):
    for _ in range(50):
        jobs = [s.job for s in driver.slots.values() if s.job is not None]
        pending = [t for t in list(driver._tasks) + [t for j in jobs for t in (j.task, j.catch_up)]
                   if t is not None and not t.done()]
        if not pending:
            return
        await asyncio.gather(*pending, return_exceptions=True)


async def turn(driver, key, messages, state=None, config=CONFIG):
    driver.boundary(key, messages, config, state, "openai", None, messages, "s1",
                    FakeEncoding())
    await settle(driver)


def test_soft_turn_prepares_catches_up_and_commits():
    async def scenario():
        ops, store = FakeOps(), ConversationStore()
        driver = EditLookahead(ops, store, Editor())
        await turn(driver, "k", history(3))                  # 72 tokens: below the soft 80
        assert ops.calls == []
        await turn(driver, "k", history(4))                  # 94: prepare the next trigger
        # settled one use ahead: t1-t4 cleared (the trigger turn will bring t5)
        assert ops.calls == [("open", "s1"), ("prepare", "s1", 10)]
        later = history(4) + [o_reply("working")]             # 95: no new use, nothing settles
        await turn(driver, "k", later)
        assert ops.calls[-1] == ("prepare", "s1", 10)
        later += [o_call("t5", "read"), o_result("t5", "ok")]             # 98: t5 settles
        await turn(driver, "k", later)
        assert ops.calls[-1] == ("append", "b1", 3)        # the reply, t5's call and cleared t5
        final = later + [o_call("t6", "read"), o_result("t6", text(20))]      # 120: trigger
        adopted = await driver.commit("k", final, CONFIG, _state(later))
        assert adopted.report == {"prepared": True, "prepared_tokens": 13, "promoted": False}
        assert adopted.result.messages == _edited(final)     # the synchronous edit, exactly
        assert adopted.result.messages[13:] == final[13:]
        assert ops.calls[-1] == ("commit", "b1")
        assert driver.slots["k"].job is None                  # consumed
        store.put("k", adopted.result.state)
        store.discard("k")                                    # evicted: the session closes
        await settle(driver)
        assert ops.calls[-1] == ("close", "s1") and "k" not in driver.slots
    asyncio.run(scenario())


def _edit(messages, state=None, config=CONFIG):
    from agentrt.editing import EditContext, edit_messages
    return edit_messages(messages, config, state, fmt="openai", ctx=EditContext(words))


def _state(messages):
    return _edit(messages).state


def _edited(messages):
    return _edit(messages, _state(messages[:-1])).messages


def test_forked_history_releases_the_branch_as_stale():
    async def scenario():
        ops = FakeOps()
        driver = EditLookahead(ops, ConversationStore(), Editor())
        await turn(driver, "k", history(4))
        forked = history(5)
        forked[3] = o_result("t1", "forked result " + text(20))
        adopted = await driver.commit("k", forked, CONFIG, None)
        assert adopted.result is None and adopted.report["prepared"] is False
        assert adopted.report["fallback"].startswith("stale")
        assert ops.calls[-1] == ("stale", "b1")
        nothing = await driver.commit("k", history(5), CONFIG, None)
        assert "nothing was prepared" in nothing.report["fallback"]
    asyncio.run(scenario())


def test_a_large_result_after_the_snapshot_still_commits_the_settled_branch():
    """The result the preparation kept (t4, protected by ``keep`` then) is cleared at the trigger
    turn: the branch never held it, so the synchronous edit still starts with the branch."""
    async def scenario():
        ops = FakeOps()
        driver = EditLookahead(ops, ConversationStore(), Editor())
        await turn(driver, "k", history(4))                  # prepared: t1-t4 cleared
        final = history(4) + [o_call("t5", "read"), o_result("t5", text(200, "big"))]
        adopted = await driver.commit("k", final, CONFIG, _state(history(4)))
        assert adopted.report["prepared"] is True and adopted.report["prepared_tokens"] == 10
        assert adopted.result.messages == _edited(final)
        kept = [m["content"] for m in adopted.result.messages if m["role"] == "tool"]
        assert kept[-1] == text(200, "big") and text(20, "r4") not in kept     # t4 cleared
        assert ops.calls[-1] == ("commit", "b1")
    asyncio.run(scenario())


def test_a_trigger_turn_without_a_new_tool_use_reuses_the_shared_prefix():
    """The branch is settled one tool use ahead; a trigger turn that brings none keeps the use
    the branch cleared: its synchronous edit is served, reusing the prefix they share."""
    async def scenario():
        ops = FakeOps()
        driver = EditLookahead(ops, ConversationStore(), Editor())
        await turn(driver, "k", history(4))                  # prepared: t1-t4 cleared
        final = history(4) + [o_user("now explain " + text(10))]          # 107: trigger
        adopted = await driver.commit("k", final, CONFIG, _state(history(4)))
        assert adopted.report["prepared"] is False
        assert "shared prefix is reused" in adopted.report["fallback"]
        assert adopted.result.messages == _edited(final)     # t4 kept: the synchronous edit
        assert ops.calls[-1] == ("abandon", "b1", True)
    asyncio.run(scenario())


def test_a_window_that_slides_into_the_prepared_part_is_served_reusing_the_branch():
    """A whole-prefix edit adopts the prepared state; a large result after the snapshot keeps
    the adopted prompt over the trigger, so the window slides on into the prepared part. That
    edit is served and the branch stays in the tree as cache for the prefix they share."""
    window = parse_context_management({"edits": [{
        "type": "sliding_window", "trigger": {"type": "input_tokens", "value": 100},
        "keep": {"type": "input_tokens", "value": 60}}]})

    async def scenario():
        ops = FakeOps()
        driver = EditLookahead(ops, ConversationStore(), Editor())
        await turn(driver, "k", history(4), config=window)   # prepared: the window's start
        final = history(4) + [o_call("t5", "read"), o_result("t5", text(200, "big"))]
        state = _edit(history(4), config=window).state
        adopted = await driver.commit("k", final, window, state)
        assert adopted.result is not None and adopted.report["prepared"] is False
        assert "shared prefix is reused" in adopted.report["fallback"]
        assert ops.calls[-1] == ("abandon", "b1", True)       # released, its cache kept
    asyncio.run(scenario())


def test_a_session_someone_else_opened_gets_no_lookahead():
    async def scenario():
        ops = FakeOps(refuse_open=True)
        driver = EditLookahead(ops, ConversationStore(), Editor())
        await turn(driver, "k", history(4))
        await turn(driver, "k", history(4) + [o_reply("x")])
        assert ops.calls == [("open", "s1")] and driver.session_of("k") is None
    asyncio.run(scenario())


def test_lookahead_applies_to_every_conversation_with_edits_unless_turned_off():
    off = parse_context_management({"edits": [], "lookahead": True})
    never = parse_context_management({"edits": [{"type": "clear_tool_uses_20250919"}],
                                      "lookahead": False})
    assert EditLookahead.applies(CONFIG)
    assert not EditLookahead.applies(off) and not EditLookahead.applies(never)


def test_a_pace_gives_the_idle_window_before_the_hard_threshold():
    from agentrt.lookahead.capacity import Pace

    pace = Pace(8)
    assert pace.window_s(1000) is None                  # not observed yet
    for at, tokens in ((0.0, 700), (2.0, 800), (4.0, 900), (6.0, 800)):
        pace.tick(at)
        pace.count(tokens)
    assert list(pace.growth) == [100, 100]              # a shrink (a commit) is not growth
    assert list(pace.intervals) == [2.0, 2.0, 2.0] and pace.largest_growth == 100
    assert pace.window_s(1000) == 4.0                   # 200 tokens to go: 2 requests of 2 s


def test_a_trigger_turn_does_not_wait_for_the_decision_on_its_preparation():
    """The scheduler has not answered the prepare when the trigger turn comes (it answers
    between forward steps): the turn is served with the synchronous edit at once and the
    prepare is withdrawn, so the server never prefills it."""
    class HeldOps(FakeOps):
        def __init__(self):
            super().__init__()
            self.sent = asyncio.Event()

        async def prepare(self, *args, **kwargs):
            self.sent.set()
            await asyncio.sleep(30)                       # not answered during the test
            return await super().prepare(*args, **kwargs)

        def withdraw(self, sid, strategy, version, reason):
            return self._record("withdraw", version)

    async def scenario():
        ops = HeldOps()
        driver = EditLookahead(ops, ConversationStore(), Editor())
        await turn(driver, "k", history(3))
        driver.boundary("k", history(4), CONFIG, None, "openai", None, history(4), "s1",
                        FakeEncoding())                   # 94: past soft, the prepare is sent
        await asyncio.wait_for(ops.sent.wait(), 5)
        final = history(4) + [o_call("t6", "read"), o_result("t6", text(20))]
        adopted = await asyncio.wait_for(driver.commit("k", final, CONFIG, _state(history(4))),
                                         1)
        assert adopted.report == {"prepared": False, "fallback": "the preparation is "
                                  "deferred: the server had not answered the prepare by the "
                                  "commit"}
        await asyncio.sleep(0.05)
        assert ("withdraw", 1) in ops.calls and not any(c[0] == "commit" for c in ops.calls)
    asyncio.run(scenario())
