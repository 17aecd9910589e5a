"""The work ledger: every prefilled token counted once by purpose, waste by reason (exact)."""
from types import SimpleNamespace

from sglang.srt.mem_cache.base_prefix_cache import EvictParams, MatchPrefixParams

from agentrt.radix.ledger import ForegroundPlan, Purpose, Waste, plan_foreground
from agentrt.radix.rids import prepare_rid

from .helpers import cache_sequence, key, make_cache, matched

CONTEXT = [1, 2, 3, 4, 5, 6]
SUMMARY = [1, 2, 9, 9]


def req(rid, tokens, session_id=None):
    return SimpleNamespace(rid=rid, origin_input_ids=list(tokens), session_id=session_id,
                           finished=lambda: False)


def run_prefill(cache, request, start=None):
    """What the scheduler does: count the batch, prefill (cache) the tokens, checkpoint."""
    tokens = request.origin_input_ids
    cached = cache_sequence(cache, tokens) if start is None else start
    cache.account_prefill(request, cached, len(tokens) - cached)
    if request.session_id in cache.book.sessions:     # checkpoint: the session's context now
        cache.on_session_turn(request.session_id, tokens)
    return cached


def prefill_branch(cache, session_id, branch, tokens=None):
    tokens = tokens or branch.target_tokens
    run_prefill(cache, req(prepare_rid(session_id, branch.id, "n"), tokens))
    cache.on_prefill_landed(branch.id)


def ledger(cache):
    js = cache.ledger.to_json()
    return {k: v for k, v in js["prefilled"].items() if v}, \
        {k: v for k, v in js["wasted"].items() if v}


def session_cache():
    cache = make_cache(128)
    run_prefill(cache, req("r0", CONTEXT, "s"))
    cache.open_session("s", CONTEXT)
    return cache


def test_plan_extends_context_or_branch_or_rewrites():
    assert plan_foreground([1, 2, 3, 7], [1, 2, 3], []) == ForegroundPlan(3, False)
    assert plan_foreground([1, 2, 9, 9, 7], [1, 2, 3], [[1, 2, 9, 9]]) == ForegroundPlan(4, False)
    assert plan_foreground([1, 2, 8], [1, 2, 3], []) == ForegroundPlan(0, True)
    # the previous prompt [1, 2] kept; its reply [3] re-rendered differently: not a rewrite
    assert plan_foreground([1, 2, 8], [1, 2, 3], [], prompt_len=2) == ForegroundPlan(2, False)
    assert plan_foreground([5, 6], [], []) == ForegroundPlan(0, False)


def test_ordinary_turns_are_new_and_evicted_ones_recompute():
    cache = session_cache()
    run_prefill(cache, req("r1", CONTEXT + [7, 8], "s"))
    assert ledger(cache) == ({"fg_new": 8}, {})
    # the tree lost the context: the whole prompt is prefilled again, 8 of it recomputed
    run_prefill(cache, req("r2", CONTEXT + [7, 8, 10], "s"), start=0)
    assert ledger(cache)[0] == {"fg_new": 9, "fg_recompute": 8}


def test_synchronous_transform_is_a_rewrite():
    cache = session_cache()
    run_prefill(cache, req("r1", SUMMARY + [7], "s"))
    assert ledger(cache) == ({"fg_new": 6, "fg_rewrite": 3}, {})


def test_committed_branch_is_reused_and_nothing_is_wasted():
    cache = session_cache()
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    prefill_branch(cache, "s", branch)
    cache.append("s", branch.id, [7])
    prefill_branch(cache, "s", branch)
    cache.commit("s", branch.id)
    run_prefill(cache, req("r1", SUMMARY + [7, 8], "s"))
    assert ledger(cache) == ({"fg_new": 7, "prepare": 2, "catch_up": 1}, {})
    assert cache.ledger.to_json()["total"] == 10


def test_abandoned_and_superseded_branches_are_waste_by_reason():
    cache = session_cache()
    first = cache.prepare("s", SUMMARY, "summary", 1)
    prefill_branch(cache, "s", first)
    second = cache.prepare("s", [1, 2, 9, 8], "summary", 2)   # supersedes the first
    prefill_branch(cache, "s", second)
    cache.abandon("s", second.id, "over lookahead budget")
    # the successor shares [1, 2, 9] with its predecessor: that stayed and was not prefilled
    # again; only the successor's own [8] was dropped with it
    assert ledger(cache) == ({"fg_new": 6, "prepare": 3}, {"budget": 1})
    # each waste names its branch and the transition that ended it (the superseded first
    # dropped nothing: its tokens lie on its successor's path)
    events = cache.ledger.to_json()["waste_events"]
    assert [(e["waste"], e["tokens"], e["branch"], e["why"]) for e in events] == \
        [("budget", 1, second.id, "over lookahead budget")]
    assert events[0]["session"] == "s" and events[0]["states"][-1] == "abandoned"
    cache.check_integrity()


def test_a_preempted_preparation_leaves_what_landed_for_the_next_prefill():
    cache = session_cache()
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    run_prefill(cache, req(prepare_rid("s", branch.id, "n"), SUMMARY[:3]))  # one chunk landed
    cache.abandon("s", branch.id, "prefill finished but the branch is not cached",
                  keep_cache=True)
    assert ledger(cache) == ({"fg_new": 6, "prepare": 1}, {})
    assert matched(cache, SUMMARY) == 3      # the synchronous commit request reuses it
    cache.check_integrity()


def test_a_cancelled_catch_up_below_a_branch_ends_with_it_as_waste():
    """A cancelled catch-up stays as cache below its branch while the branch lives (the commit
    request would reuse it); when the branch ends uncommitted (its agent finished), those tokens
    are dropped with it and counted: the idle nemo-gym run of 3 Dec 17:16 prepared the same
    branch in both repeats and counted its waste in one."""
    cache = session_cache()
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    prefill_branch(cache, "s", branch)
    cache.append("s", branch.id, [7, 7])
    run_prefill(cache, req(prepare_rid("s", branch.id, "n"), SUMMARY + [7]))  # one of two
    cache.prefill_ended(branch.id, "preempted")
    assert matched(cache, SUMMARY + [7]) == 5 and branch.state.live
    cache.close_session("s")
    assert ledger(cache) == ({"fg_new": 6, "prepare": 2, "catch_up": 1}, {"not_committed": 3})
    assert matched(cache, SUMMARY + [7]) == 2      # only the prefix the old context shares
    cache.check_integrity()


def test_a_catch_up_in_flight_when_its_branch_ends_is_waste_and_evicted_first():
    cache = session_cache()
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    prefill_branch(cache, "s", branch)
    cache.append("s", branch.id, [7, 7])
    run_prefill(cache, req(prepare_rid("s", branch.id, "n"), SUMMARY + [7, 7]))
    reading = cache.match_prefix(MatchPrefixParams(key=key(SUMMARY + [7, 7]))).last_device_node
    cache.inc_lock_ref(reading)                    # its request still runs
    cache.close_session("s")
    assert ledger(cache)[1] == {"not_committed": 4}
    cache.dec_lock_ref(reading)                    # it ends: its remains go first on eviction
    cache.evict(EvictParams(num_tokens=4))
    assert matched(cache, SUMMARY + [7, 7]) == 2 and matched(cache, CONTEXT) == 6
    assert not cache.discarded and ledger(cache)[1] == {"not_committed": 4}
    cache.check_integrity()


def test_a_reply_below_another_sessions_context_is_kept():
    """What hangs below a released path is dropped only where no kept path runs through it."""
    cache = session_cache()
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    prefill_branch(cache, "s", branch)
    run_prefill(cache, req("t0", SUMMARY + [5, 5], "t"))
    cache.open_session("t", SUMMARY + [5, 5])       # another conversation extends the branch
    cache.close_session("s")
    assert ledger(cache)[1] == {} and matched(cache, SUMMARY + [5, 5]) == 6
    cache.check_integrity()


def test_prefill_after_the_branch_ended_is_late_waste():
    cache = session_cache()
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    cache.abandon("s", branch.id, "not committed")
    prefill_branch(cache, "s", branch)
    assert ledger(cache) == ({"fg_new": 6, "prepare": 2}, {"late": 2})
    assert cache.ledger.to_json()["wasted_share"] == 1.0


def test_tree_reset_wastes_live_branches_and_listeners_see_every_count():
    cache = session_cache()
    seen = []
    cache.ledger.listeners.append(lambda *a: seen.append(a))
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    prefill_branch(cache, "s", branch)
    cache.reset()
    assert ledger(cache)[1] == {Waste.NOT_COMMITTED.value: 2}
    assert seen == [("prefilled", Purpose.PREPARE.value, 2),
                    ("wasted", Waste.NOT_COMMITTED.value, 2)]
