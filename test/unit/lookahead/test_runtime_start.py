"""When the runtime starts a preparation (deadline-driven start) and what a no-op transform
does: a fake server client, no model."""
import asyncio
import time

from agentrt.lookahead.capacity import ServerLoad, decide_start
from agentrt.lookahead.client import ServerError
from agentrt.lookahead.preparation import COMMIT_DUE_HOLD_S
from agentrt.lookahead.runtime import LookaheadRuntime
from agentrt.lookahead.strategies import ClearToolResults
from agentrt.lookahead.strategy import ContextBudget, LookaheadStrategy, MainState


class FakeClient:
    """Tokens are words; the fake server tokenizes what a branch is sent as, decides its
    capacity check from ``load`` (capacity.py) and prepares every branch it starts at once."""

    def __init__(self, load: ServerLoad = ServerLoad(0.0, 0.0)):   # not measured yet
        self.prepared, self.committed, self.promoted = [], [], []
        self.appends = 0
        self.promoted_appends = []
        self.withdrawn = []         # versions whose prepare was withdrawn
        self.branch_tokens = {}     # branch id: its token ids
        self.commit_sizes = []      # the commit size each checked prepare was sent with
        self.load = load

    @property
    def lengths(self):
        return {b: len(t) for b, t in self.branch_tokens.items()}

    def llm_call(self):
        return None

    async def tokenize(self, messages, session_id=None):
        """A token per word, its id the word's."""
        return [sum(map(ord, w)) for m in messages for w in (m.get("content") or "").split()]

    async def open_session(self, sid, tokens=None):
        return {}

    async def prepare(self, sid, messages, strategy, version, sig, wait=True, promote=False,
                      window_s=None, later_window_s=None, commit_tokens=None):
        tokens = await self.tokenize(messages)
        checked = {}
        if window_s is not None:
            self.commit_sizes.append(commit_tokens)
            decision = decide_start(self.load, len(tokens), window_s, later_window_s)
            checked = {"admission": decision._asdict()}
            if not decision.start:
                return dict(checked, outcome="deferred", reason=decision.reason)
        self.prepared.append(len(tokens))
        self.branch_tokens[f"b{version}"] = tokens
        if promote:
            self.promoted.append(f"b{version}")
        return dict(checked, id=f"b{version}", outcome="ready", reason="", tokens=len(tokens))

    async def promote(self, sid):
        self.promoted.append(sid)

    async def wait_branch(self, sid, branch):
        return {"id": branch, "outcome": "ready", "reason": "",
                "tokens": len(self.branch_tokens[branch])}

    async def withdraw(self, sid, strategy, version, reason):
        self.withdrawn.append(version)

    async def append(self, sid, branch, messages, wait=True, promote=False):
        self.appends += 1
        if promote:
            self.promoted_appends.append(branch)
        tokens = await self.tokenize(messages)
        if tokens[:len(self.branch_tokens[branch])] != self.branch_tokens[branch]:
            raise ServerError(409, f"the context does not extend branch {branch}")
        self.branch_tokens[branch] = tokens
        return {"id": branch, "outcome": "ready", "reason": "", "tokens": len(tokens)}

    async def commit(self, sid, branch):
        self.committed.append(branch)
        return {"background_tokens": self.lengths[branch]}   # the server's ledger for it

    async def abandon(self, sid, branch, reason):
        pass

    async def close_session(self, sid):
        pass


def words(n):
    return " ".join(["w"] * n)


def test_should_lookahead_with_lead_segments():
    plain = ClearToolResults(ContextBudget(1000))
    lead = ClearToolResults(ContextBudget(1000, lead_segments=2))
    # past soft (600): SmoothAgent's start at once; deadline start only when 2 segments of
    # the recent growth reach hard (800)
    assert plain.should_lookahead(MainState([], 650, growth=50))
    assert not lead.should_lookahead(MainState([], 650, growth=50))
    assert lead.should_lookahead(MainState([], 700, growth=50))
    assert lead.should_lookahead(MainState([], 650, growth=None))     # unknown: at once
    assert not lead.should_lookahead(MainState([], 500, growth=400))  # never before soft


async def _replay(budget, client=None):
    client = client or FakeClient()
    rt = LookaheadRuntime(client, ClearToolResults(budget, keep_last=1), session_id="s")
    msgs = [{"role": "system", "content": words(10)}]
    started_at = None
    for step in range(12):
        msgs = await rt.on_commit(msgs)
        msgs.append({"role": "assistant", "content": words(40)})
        await rt.on_segment_boundary(msgs)
        msgs.append({"role": "tool", "content": words(60)})
        await rt.on_segment_boundary(msgs)
        if started_at is None and rt.preparations_started:
            started_at = rt.state.tokens
        await asyncio.sleep(0)
    return rt, client, started_at


def test_runtime_tracks_growth_and_starts_near_the_deadline():
    rt, _, soft_start = asyncio.run(_replay(ContextBudget(1000)))
    assert rt.state.growth == 60                  # the largest of the recent segments
    rt2, client, late_start = asyncio.run(_replay(ContextBudget(1000, lead_segments=2)))
    assert soft_start >= 600 and late_start >= 800 - 2 * 60
    assert late_start > soft_start
    assert [r.outcome for r in rt2.records][:1] == ["ready"] and client.committed


def test_saturated_server_defers_every_preparation_and_commits_synchronously():
    busy = FakeClient(ServerLoad(prefill_ms_per_token=50.0, foreground_share=1.0))
    rt, client, started = asyncio.run(_replay(ContextBudget(1000), busy))
    # nothing is prefilled in the background, not even at a boundary where the commit is due
    # and follows at once (the synchronous commit prefills the same tokens in one request)
    assert rt.deferred_starts > 0 and client.prepared == []
    assert set(busy.commit_sizes) == {800}     # the hard threshold: for the end-risk check
    assert rt.records and {r.outcome for r in rt.records} == {"deferred"}
    rt, client, started = asyncio.run(_replay(ContextBudget(1000), FakeClient()))
    assert started is not None and rt.deferred_starts == 0    # unmeasured: the soft rule


def _commit_on_a_saturated_server(client_cls, settle):
    """Two boundaries on a saturated server (the pace, then past the soft threshold),
    ``settle(rt)``, then the commit past the hard one: (runtime, client, committed messages)."""
    async def go():
        client = client_cls(ServerLoad(prefill_ms_per_token=50.0, foreground_share=1.0))
        rt = LookaheadRuntime(client, ClearToolResults(ContextBudget(100), keep_last=1),
                              session_id="s")
        msgs = [{"role": "system", "content": words(10)},
                {"role": "tool", "content": words(25)}]                      # 35: the pace
        await rt.on_segment_boundary(msgs)
        msgs = msgs + [{"role": "tool", "content": words(25)}]               # 60: past soft
        await rt.on_segment_boundary(msgs)
        await settle(rt)
        return rt, client, await rt.on_commit(msgs + [{"role": "tool", "content": words(25)}])
    return asyncio.run(go())


def test_a_commit_with_its_preparation_deferred_is_recorded_as_deferred():
    rt, client, out = _commit_on_a_saturated_server(FakeClient, lambda rt: rt.wait_prepared())
    assert client.prepared == [] and rt.deferred_starts == 1
    assert [r.outcome for r in rt.records] == ["deferred"]
    assert rt.records[0].reason.startswith("deferred: needs ") and len(out) == 4


def test_a_deferral_answered_within_the_grace_is_recorded_as_deferred():
    """The server's capacity answer comes shortly after the commit took the job (within
    ``DECISION_GRACE_S``): the commit takes it, ``deferred`` by the check; nothing withdrawn."""
    class QuickAnswer(FakeClient):
        async def prepare(self, *args, **kwargs):
            answer = await super().prepare(*args, **kwargs)
            await asyncio.sleep(0.05)               # decided, answered after the commit came
            return answer

    # the prepare call is sent, not answered, when the commit comes
    rt, client, out = _commit_on_a_saturated_server(QuickAnswer, lambda rt: asyncio.sleep(0.01))
    assert client.prepared == [] and rt.deferred_starts == 1 and client.withdrawn == []
    assert [r.outcome for r in rt.records] == ["deferred"] and len(out) == 4
    assert rt.records[0].reason.startswith("deferred: needs ")


class SlowAnswer(FakeClient):
    """The server answers a prepare 1 s after it was sent (a busy scheduler drains its
    control messages between forward steps); ``started``: it was sent."""

    def __init__(self, load=ServerLoad(0.0, 0.0)):
        super().__init__(load)
        self.started = asyncio.Event()

    async def prepare(self, *args, **kwargs):
        self.started.set()
        answer = await super().prepare(*args, **kwargs)
        await asyncio.sleep(1.0)
        return answer


def test_a_commit_does_not_wait_for_the_servers_decision_on_a_prepare():
    """The capacity answer has not come when the commit takes the job: the commit does not wait
    for it; it withdraws the prepare (on a saturated server: one that was being deferred) and
    commits the transform as ``deferred``."""
    async def sent(rt):
        await rt.client.started.wait()

    started = time.perf_counter()
    rt, client, out = _commit_on_a_saturated_server(SlowAnswer, sent)
    took = time.perf_counter() - started
    assert took < 0.6, took                   # its grace (0.2 s), not the 1 s answer
    assert client.withdrawn == [1] and rt.deferred_starts == 0
    assert [r.outcome for r in rt.records] == ["deferred"] and len(out) == 4
    assert rt.records[0].reason == "deferred: the server had not answered the prepare by the " \
        "commit"


def test_a_branch_over_the_servers_budget_is_deferred_not_failed():
    class NoRoom(FakeClient):
        async def prepare(self, *args, **kwargs):
            raise ServerError(413, "branch needs 60 tokens; the lookahead budget is 50")

    async def go():
        rt = LookaheadRuntime(NoRoom(), ClearToolResults(ContextBudget(100), keep_last=1),
                              session_id="s")
        msgs = [{"role": "system", "content": words(10)}] + \
            [{"role": "tool", "content": words(25)} for _ in range(2)]       # 60: past soft
        await rt.on_segment_boundary(msgs)
        await rt.wait_prepared()
        return rt, await rt.on_commit(msgs + [{"role": "tool", "content": words(25)}])

    rt, out = asyncio.run(go())
    assert [r.outcome for r in rt.records] == ["deferred"] and len(out) == 4
    assert "no room for the branch" in rt.records[0].reason


def test_noop_transform_prepares_nothing_and_commits_nothing():
    async def go():
        client = FakeClient()
        rt = LookaheadRuntime(client, ClearToolResults(ContextBudget(100), keep_last=5),
                              session_id="s")
        msgs = [{"role": "system", "content": words(70)},
                {"role": "tool", "content": words(20)}]   # one tool output, keep_last=5
        await rt.on_segment_boundary(msgs)
        await asyncio.sleep(0.01)
        out = await rt.on_commit(msgs)
        return rt, client, msgs, out

    rt, client, msgs, out = asyncio.run(go())
    assert out == msgs and rt.records == [] and rt.noop_transforms == 1
    assert rt.preparations_started == 0
    assert client.prepared == []


def test_a_commit_after_an_unchanged_snapshot_transforms_what_arrived_since():
    """Two boundaries back to back (the preparation had no time to run in between): the
    snapshot taken at the first changed nothing, the context at the commit does; the commit
    transforms it as the synchronous path does, not as a no-op."""
    async def go():
        strategy = ClearToolResults(ContextBudget(1000), keep_last=1,
                                    count_tokens=lambda s: len(s.split()))
        rt = LookaheadRuntime(FakeClient(), strategy, session_id="s")
        msgs = [{"role": "system", "content": words(560)}]
        await rt.on_segment_boundary(msgs)                     # below soft; the session opens
        await asyncio.sleep(0.01)
        msgs = msgs + [{"role": "assistant", "content": words(20)},
                       {"role": "tool", "content": words(200)}]     # 780: kept, not answered
        await rt.on_segment_boundary(msgs)
        msgs = msgs + [{"role": "assistant", "content": words(20)}]    # answered: 800, hard
        await rt.on_segment_boundary(msgs)
        await rt.wait_prepared()
        synchronous = await strategy.apply(msgs, {}, None)
        return rt, await rt.on_commit(msgs), synchronous.messages

    rt, out, synchronous = asyncio.run(go())
    assert out == synchronous and out[2]["content"] != words(200)
    assert rt.noop_transforms == 0 and [r.outcome for r in rt.records] == ["fallback"]


def test_should_promote_at_the_commit_deadline():
    s = ClearToolResults(ContextBudget(1000, promote_segments=2))
    assert s.should_promote(MainState([], 800))                  # the commit is due
    assert s.should_promote(MainState([], 700, growth=60))       # due within 2 segments
    assert not s.should_promote(MainState([], 600, growth=60))
    assert not s.should_promote(MainState([], 700))              # growth unknown
    late = ClearToolResults(ContextBudget(1000))                 # default: at the commit
    assert not late.should_promote(MainState([], 790, growth=60))


def test_deadline_start_sends_the_preparation_promoted():
    _, client, _ = asyncio.run(_replay(ContextBudget(1000, lead_segments=2,
                                                     promote_segments=2)))
    assert client.promoted and client.promoted[0] == "b1"


class DropOldestTool(LookaheadStrategy):
    """Drops only the oldest tool output: the context stays past the soft threshold."""
    name = "drop_oldest_tool"

    async def transform(self, messages, strategy_data, llm=None):
        from agentrt.lookahead.strategy import Transform
        first = next(i for i, m in enumerate(messages) if m["role"] == "tool")
        return Transform(messages[:first] + messages[first + 1:], strategy_data)


def test_a_commit_still_past_soft_prepares_the_next_transform_at_once():
    async def go():
        client = FakeClient()
        rt = LookaheadRuntime(client, DropOldestTool(ContextBudget(100)), session_id="s")
        msgs = [{"role": "system", "content": words(10)}] + \
            [{"role": "tool", "content": words(25)} for _ in range(3)]      # 85: past hard
        await rt.on_segment_boundary(msgs)
        await rt.wait_prepared()
        out = await rt.on_commit(msgs)                                      # 60 left: soft
        assert rt.records[-1].outcome == "ready" and len(out) == 3
        await rt.wait_prepared()
        return rt, client

    rt, client = asyncio.run(go())
    assert rt.preparations_started == 2 and len(client.prepared) == 2


def test_catch_ups_of_a_promoted_preparation_are_promoted_too():
    """Once the commit is predicted within ``promote_segments``, what the branch still lacks
    goes first: the commit request would prefill it on the critical path otherwise."""
    async def go():
        budget = ContextBudget(1000, promote_segments=1)
        client = FakeClient()
        rt = LookaheadRuntime(client, ClearToolResults(budget, keep_last=1), session_id="s")
        msgs = [{"role": "system", "content": words(30)}]
        while not rt.strategy.should_commit(rt.state):
            msgs = msgs + [{"role": "assistant", "content": words(20)},
                           {"role": "tool", "content": f"out{len(msgs)} " + words(59)}]
            await rt.on_segment_boundary(msgs)
            await rt.wait_prepared()
        await rt.close()
        return client

    client = asyncio.run(go())
    assert client.appends and client.promoted_appends, (client.appends, client.promoted_appends)


def test_a_commit_that_comes_before_the_branch_is_sent_commits_the_transform_and_sends_nothing():
    """The transform was still running when the commit came: the commit takes it and its own
    request prefills it (``deferred``), with the synchronous path's messages; no branch is sent
    for it to wait on."""
    class SlowTransform(ClearToolResults):
        async def transform(self, messages, strategy_data, llm=None):
            await asyncio.sleep(0.05)
            return await super().transform(messages, strategy_data, llm)

    async def go(enabled):
        client = FakeClient()
        rt = LookaheadRuntime(client, SlowTransform(ContextBudget(100), keep_last=1),
                              session_id="s", enabled=enabled)
        msgs = [{"role": "system", "content": words(10)}] + \
            [{"role": "tool", "content": f"{i} " + words(24)} for i in range(2)]   # past soft
        await rt.on_segment_boundary(msgs)
        out = await rt.on_commit(msgs + [{"role": "tool", "content": "2 " + words(24)}])
        await asyncio.sleep(0.1)
        return rt, client, out

    rt, client, out = asyncio.run(go(True))
    _, _, synchronous = asyncio.run(go(False))
    assert client.prepared == [] and rt.preparations_started == 0
    assert client.promoted == []        # nothing on the server: no promote call to wait for
    assert [r.outcome for r in rt.records] == ["deferred"]
    assert rt.records[0].reason == "deferred: the commit came before the branch was sent"
    assert out == synchronous and out[1]['content'] == '[old tool result cleared]'


def test_a_commit_ends_the_hold_of_a_preparation_whose_commit_is_due():
    """The commit is due at the boundary (past the hard threshold), so the preparation is held;
    the commit that follows at once takes the transform without waiting out the hold."""
    async def go():
        client = FakeClient()
        rt = LookaheadRuntime(client, ClearToolResults(ContextBudget(100), keep_last=1),
                              session_id="s")
        msgs = [{"role": "system", "content": words(10)}] + \
            [{"role": "tool", "content": f"{i} " + words(34)} for i in range(3)]   # past hard
        await rt.on_segment_boundary(msgs)
        assert rt._job is not None and rt._job.held
        return rt, client, await rt.on_commit(msgs)

    rt, client, out = asyncio.run(go())
    assert client.prepared == [] and [r.outcome for r in rt.records] == ["deferred"]
    assert rt.records[0].waited_s < COMMIT_DUE_HOLD_S / 2


def test_the_session_opens_beside_the_first_model_call():
    """Opening the session waits for the scheduler's loop: the hook returns without it, the
    next hook takes its result, and a prepare is sent only once it landed."""
    class SlowOpen(FakeClient):
        def __init__(self):
            super().__init__()
            self.release, self.opened, self.order = asyncio.Event(), False, []

        async def open_session(self, sid, tokens=None):
            await self.release.wait()
            self.opened = True
            self.order.append("open")

        async def prepare(self, *args, **kwargs):
            self.order.append("prepare")
            return await super().prepare(*args, **kwargs)

    async def go():
        client = SlowOpen()
        rt = LookaheadRuntime(client, ClearToolResults(ContextBudget(100), keep_last=1),
                              session_id="s")
        msgs = [{"role": "system", "content": words(10)}]
        assert await asyncio.wait_for(rt.on_commit(msgs), 1.0) == msgs   # not blocked
        assert not client.opened and not rt._session_open
        msgs = msgs + [{"role": "tool", "content": "0 " + words(59)}]          # past soft
        boundary = asyncio.create_task(rt.on_segment_boundary(msgs))
        await asyncio.sleep(0.01)
        assert not boundary.done()             # the next hook waits for the open's answer
        client.release.set()
        await boundary
        await rt.wait_prepared()
        return rt, client

    rt, client = asyncio.run(go())
    assert rt._session_open and client.order[0] == "open"


def test_a_commit_records_how_close_its_preparation_came_to_fitting():
    rt, client, _ = _commit_on_a_saturated_server(FakeClient, lambda rt: rt.wait_prepared())
    [decision] = rt.start_decisions          # deferred: need 50 ms x tokens, no idle time
    assert not decision.start and decision.idle_s == 0
    assert rt.records[0].best_fit == float("inf")
    rt, client, _ = asyncio.run(_replay(ContextBudget(1000), FakeClient()))  # load unknown
    assert rt.records and rt.records[0].best_fit is None                     # never checked


def test_a_commit_records_the_lead_of_a_preparation_sent_at_its_earliest():
    """A preparation sent at the first boundary that could start one, whose commit came before
    its prefill (priced at 1 s) ended: promoted, with a lead under its need, a commit no start
    rule could have had ready. After a check declined a start, the lead is not recorded."""
    class Slow(FakeClient):
        def __init__(self, declines):
            super().__init__()
            self.declines = declines

        async def prepare(self, *args, **kwargs):
            admission = {"start": not self.declines, "reason": "r", "need_s": 1.0,
                         "idle_s": 2.0}
            if self.declines:
                self.declines -= 1
                return {"admission": admission, "outcome": "deferred", "reason": "r"}
            return dict(await super().prepare(*args, **kwargs), admission=admission,
                        outcome="preparing")

        async def wait_branch(self, sid, branch):
            await asyncio.sleep(0.05)                 # admitted: its prefill takes a while
            return await super().wait_branch(sid, branch)

    async def go(declines):
        client = Slow(declines)
        rt = LookaheadRuntime(client, ClearToolResults(ContextBudget(100), keep_last=1),
                              session_id="s")
        msgs = [{"role": "system", "content": words(10)}] + \
            [{"role": "tool", "content": f"{i} " + words(24)} for i in range(2)]   # past soft
        for i in range(2 + declines):
            msgs = msgs + [{"role": "assistant", "content": f"a{i}"}]
            await rt.on_segment_boundary(msgs)
            await asyncio.sleep(0.01)
        return rt, await rt.on_commit(msgs + [{"role": "tool", "content": "9 " + words(24)}])

    rt, _ = asyncio.run(go(0))
    [record] = rt.records
    assert record.outcome == "promoted" and record.need_s == 1.0
    assert 0.0 < record.lead_s < 0.05
    rt, _ = asyncio.run(go(1))
    assert rt.records[0].lead_s is None and rt.records[0].need_s is None


def test_a_baseline_runtime_opens_its_session_only_without_a_local_counter():
    """``enabled=False`` with ``count_tokens`` uses no agentrt endpoint; without it, the server
    tokenizes and the session is opened (its pins and turns are tracked as before)."""
    class Opens(FakeClient):
        def __init__(self):
            super().__init__()
            self.opened = []

        async def open_session(self, sid, tokens=None):
            self.opened.append(sid)

    async def go(count_tokens):
        client = Opens()
        rt = LookaheadRuntime(client, ClearToolResults(ContextBudget(1000)), session_id="s",
                              enabled=False, count_tokens=count_tokens)
        msgs = [{"role": "system", "content": words(10)}]
        await rt.on_segment_boundary(msgs)
        await rt.on_segment_boundary(msgs + [{"role": "tool", "content": words(5)}])
        await rt.close()
        return client.opened, rt.state.tokens

    async def count(messages):
        return 7
    assert asyncio.run(go(count)) == ([], 7)
    assert asyncio.run(go(None)) == (["s"], 15)


class Reply:
    ttft_s, cached_tokens = 0.01, 0


class ReplyAfter(FakeClient):
    """The model call returns once ``release`` is set; ``during`` records what the server had
    been sent while it ran (prepares, appends)."""

    def __init__(self):
        super().__init__()
        self.release, self.during = asyncio.Event(), None

    async def chat(self, messages, session_id=None, **kw):
        await self.release.wait()
        self.during = (list(self.prepared), self.appends)
        return Reply()


def _past_soft():
    """64 of ContextBudget(100)'s tokens, the older of two tool outputs clearable."""
    return [{"role": "system", "content": words(10)}] + \
        [{"role": "tool", "content": f"{i} " + words(26)} for i in range(2)]


async def _call_while(rt, client, delay_s=0.05):
    """The agent's model call, released after ``delay_s`` by another task."""
    asyncio.get_running_loop().call_later(delay_s, client.release.set)
    await rt.chat([{"role": "user", "content": "q"}])


def test_a_preparation_due_during_the_agents_own_model_call_is_sent_after_it():
    """With the capacity check on, the prepare waits for the agent's call to return; without
    it, it is sent at once (during the call)."""
    async def go(capacity_aware):
        client = ReplyAfter()
        rt = LookaheadRuntime(client, ClearToolResults(ContextBudget(100), keep_last=1),
                              session_id="s", capacity_aware=capacity_aware)
        msgs = _past_soft()
        await rt.on_segment_boundary(msgs)
        await _call_while(rt, client)
        await rt.wait_prepared()
        return client

    client = asyncio.run(go(True))
    assert client.during == ([], 0) and len(client.prepared) == 1
    client = asyncio.run(go(False))
    assert len(client.during[0]) == 1


def test_a_job_that_ends_with_the_agents_final_call_sends_nothing():
    """The agent's last answer: the runtime closes right after the call returns, and the
    preparation that waited for it is never sent (no branch to waste)."""
    async def go():
        client = ReplyAfter()
        rt = LookaheadRuntime(client, ClearToolResults(ContextBudget(100), keep_last=1),
                              session_id="s")
        msgs = _past_soft()
        await rt.on_segment_boundary(msgs)
        await _call_while(rt, client)
        await rt.close()
        await asyncio.sleep(0.05)
        return rt, client

    rt, client = asyncio.run(go())
    assert client.prepared == [] and rt.preparations_started == 0


async def _ready(client):
    """A runtime whose branch, prepared past the soft threshold of 100 tokens, is ready."""
    rt = LookaheadRuntime(client, ClearToolResults(ContextBudget(100), keep_last=1),
                          session_id="s")
    msgs = _past_soft() + [{"role": "assistant", "content": "a0"}]
    await rt.on_segment_boundary(msgs)
    await rt.wait_prepared()
    assert rt.job_state.value == "ready"
    return rt, msgs


def test_a_catch_up_due_during_the_agents_own_model_call_is_sent_after_it():
    async def go():
        client = ReplyAfter()
        rt, msgs = await _ready(client)
        msgs = msgs + [{"role": "tool", "content": "1 " + words(5)},
                       {"role": "assistant", "content": "a1"}]
        await rt.on_segment_boundary(msgs)                  # a catch-up is due
        await _call_while(rt, client)
        await rt.wait_prepared()
        return client

    client = asyncio.run(go())
    assert client.during[1] == 0 and client.appends == 1


def test_a_catch_up_whose_wait_fails_fails_the_job_not_the_agent():
    """The server went away while a catch-up waited to be sent (a reopen of the session
    failed): the job fails (the commit falls back), nothing escapes the catch-up's task."""
    from agentrt.lookahead.client import ServerUnavailable
    from agentrt.lookahead.job import Job
    from agentrt.lookahead.preparation import Preparer

    async def down():
        raise ServerUnavailable("connection refused")

    async def go():
        job = Job(1, 1, "sig")
        job.prepared("b1", 10)
        job.latest = [{"role": "user", "content": "a"}, {"role": "tool", "content": "b"}]
        preparer = Preparer(FakeClient(), "s", down, lambda: None, None, lambda: None,
                            lambda d: None)
        await preparer.catch_up(job)
        return job

    job = asyncio.run(go())
    assert job.state.value == "failed" and "connection refused" in job.reason


async def _ready_then_due(tool_s):
    """A branch prepared past the soft threshold; then a tool output takes the context past
    the hard one (the commit is due), and the commit follows after ``tool_s``."""
    client = FakeClient()
    rt, msgs = await _ready(client)
    msgs = msgs + [{"role": "tool", "content": "2 " + words(20)}]     # 86 of 100: past hard
    await rt.on_segment_boundary(msgs)
    await asyncio.sleep(tool_s)
    return rt, client, await rt.on_commit(msgs)


def test_a_catch_up_due_where_the_commit_is_due_is_left_to_the_commit_request():
    """No tool time before the commit: the catch-up is held, the commit takes the branch as
    it is and its own request prefills the new tool output (no background append of it to
    queue behind). After tool time the catch-up is sent. Both commits give the same context."""
    rt, client, at_once = asyncio.run(_ready_then_due(0.0))
    assert client.appends == 0 and [r.outcome for r in rt.records] == ["ready"]
    assert rt.records[0].waited_s < COMMIT_DUE_HOLD_S / 2
    rt, client, after_tool = asyncio.run(_ready_then_due(COMMIT_DUE_HOLD_S * 2))
    assert client.appends == 1 and [r.outcome for r in rt.records] == ["ready"]
    assert at_once == after_tool and at_once[1]["content"] == "[old tool result cleared]"
