"""Exact trees after each branch transition (page size 1; tokens are small ints)."""
import pytest

from agentrt.radix.branch import BranchState, LookaheadError

from .helpers import FakeClock, cache_sequence, make_cache, matched, shape

CONTEXT = [1, 2, 3, 4, 5, 6]          # system [1, 2] + turns [3..6]
SUMMARY = [1, 2, 9, 9]                # system + summary of the turns


@pytest.fixture
def cache():
    c = make_cache(64)
    cache_sequence(c, CONTEXT)
    c.open_session("s", CONTEXT)
    return c


def prefill(cache, branch, tokens=None):
    """What the tagged background request does: cache the tokens, then checkpoint."""
    cache_sequence(cache, tokens or branch.tokens)
    cache.on_prefill_landed(branch.id)


def test_prepare_then_prefill_protects_a_sibling_branch(cache):
    branch = cache.prepare("s", SUMMARY, "summary", 1, "sig")
    assert branch.state is BranchState.PREPARING and branch.fork_len == 2
    # looking for the branch split the context at the fork, as SGLang's match_prefix does
    assert shape(cache) == (((1, 2), 0, ((3, 4, 5, 6), 0)),)
    prefill(cache, branch)
    assert branch.state is BranchState.READY
    assert shape(cache) == (((1, 2), 1, ((3, 4, 5, 6), 0), ((9, 9), 1)),)
    assert cache.protected_size() == 4 and cache.evictable_size() == 4
    assert [t.reason for t in branch.history] == ["prepare", "prefilled"]
    cache.check_integrity(expected_free=True)


def test_prepare_of_cached_tokens_is_ready_at_once(cache):
    branch = cache.prepare("s", [1, 2, 3], "window", 1)
    assert branch.state is BranchState.READY
    assert shape(cache) == (((1, 2, 3), 1, ((4, 5, 6), 0)),)


def test_append_catches_up_and_moves_the_lock(cache):
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    prefill(cache, branch)
    cache.append("s", branch.id, [7, 7])
    assert branch.pending_tokens == SUMMARY + [7, 7] and branch.tokens == SUMMARY
    prefill(cache, branch, SUMMARY + [7, 7])
    assert branch.tokens == SUMMARY + [7, 7] and branch.pending_tokens is None
    assert shape(cache) == (((1, 2), 1, ((3, 4, 5, 6), 0), ((9, 9), 1, ((7, 7), 1))),)
    assert [t.reason for t in branch.history][-1] == "caught up"
    cache.check_integrity(expected_free=True)


def test_cancelled_catch_up_keeps_the_branch_ready_as_it_was(cache):
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    prefill(cache, branch)
    cache.append("s", branch.id, [7, 7])
    cache_sequence(cache, SUMMARY + [7])           # preempted after one of the two tokens
    cache.prefill_ended(branch.id, "preempted")     # its request ended without landing
    assert branch.state is BranchState.READY and branch.pending_tokens is None
    assert branch.tokens == SUMMARY and branch.history[-1].reason == "catch-up cancelled: " \
        "preempted"
    # the partial catch-up is plain evictable cache; the branch still holds its own path
    assert cache.protected_size() == 4
    cache.check_integrity(expected_free=True)
    cache.commit("s", branch.id)                   # and it still commits
    assert cache.book.session("s").context == SUMMARY


def test_a_first_prefill_that_ended_without_landing_abandons_the_branch_keeping_the_cache(
        cache):
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    cache_sequence(cache, SUMMARY[:3])               # preempted after three tokens
    cache.prefill_ended(branch.id, "prefill aborted")
    assert branch.state is BranchState.ABANDONED and branch.history[-1].reason == \
        "prefill aborted"
    assert cache.protected_size() == 0                # what landed is plain evictable cache
    cache.prefill_ended(branch.id, "again")           # an ended branch: nothing changes
    assert branch.history[-1].reason == "prefill aborted"
    landed = cache.prepare("s", SUMMARY, "summary", 2)
    prefill(cache, landed)
    cache.prefill_ended(landed.id, "finished")        # its request finished after landing
    assert landed.state is BranchState.READY
    cache.check_integrity(expected_free=True)


def test_commit_swaps_head_frees_old_context_and_pins_branch(cache):
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    prefill(cache, branch)
    free_before = cache.token_to_kv_pool_allocator.available_size()
    cache.commit("s", branch.id)
    assert branch.state is BranchState.COMMITTED
    assert cache.book.session("s").context == SUMMARY
    # old context's exclusive tail [3..6] is freed at once; the branch stays locked by the pin
    assert shape(cache) == (((1, 2), 1, ((9, 9), 1)),)
    assert cache.token_to_kv_pool_allocator.available_size() == free_before + 4
    assert cache.pins["s"].reason == f"commit:{branch.id}"
    assert matched(cache, SUMMARY + [5]) == 4
    cache.check_integrity(expected_free=True)


def test_next_turn_releases_commit_pin(cache):
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    prefill(cache, branch)
    cache.commit("s", branch.id)
    cache_sequence(cache, SUMMARY + [8])
    cache.on_session_turn("s", SUMMARY + [8])
    assert "s" not in cache.pins
    assert cache.protected_size() == 0
    cache.check_integrity(expected_free=True)


def test_commit_request_cached_before_the_swap_keeps_its_context(cache):
    """The swap goes beside the commit request: if that request is cached first, its context
    (the branch plus the new turn) stays the session's, and nothing of it is freed."""
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    prefill(cache, branch)
    cache_sequence(cache, SUMMARY + [8])
    cache.on_session_turn("s", SUMMARY + [8])
    cache.commit("s", branch.id)
    assert branch.state is BranchState.COMMITTED
    assert cache.book.session("s").context == SUMMARY + [8]
    assert matched(cache, SUMMARY + [8]) == 5
    cache_sequence(cache, SUMMARY + [8, 7])        # the next turn releases the commit pin
    cache.on_session_turn("s", SUMMARY + [8, 7])
    assert "s" not in cache.pins and cache.protected_size() == 0
    cache.check_integrity(expected_free=True)


def test_abandon_frees_exclusive_branch_nodes(cache):
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    prefill(cache, branch)
    cache.abandon("s", branch.id, "test")
    assert branch.state is BranchState.ABANDONED and branch.history[-1].reason == "test"
    assert shape(cache) == (((1, 2), 0, ((3, 4, 5, 6), 0)),)
    assert cache.protected_size() == 0
    cache.check_integrity(expected_free=True)


def test_new_version_supersedes_and_old_version_is_refused(cache):
    first = cache.prepare("s", SUMMARY, "summary", 1)
    prefill(cache, first)
    second = cache.prepare("s", [1, 2, 8, 8], "summary", 2)
    assert first.state is BranchState.ABANDONED
    assert first.history[-1].reason == f"superseded by {second.id}"
    with pytest.raises(LookaheadError, match="stale version") as err:
        cache.prepare("s", [1, 2, 7], "summary", 2)
    assert err.value.status == 409


def test_commit_marks_other_live_branches_stale(cache):
    a = cache.prepare("s", SUMMARY, "summary", 1)
    b = cache.prepare("s", [1, 2, 3], "window", 1)
    prefill(cache, a)
    cache.commit("s", a.id)
    assert b.state is BranchState.STALE
    cache.check_integrity(expected_free=True)


def test_commit_of_preparing_branch_refused_and_changes_nothing(cache):
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    before = shape(cache)
    with pytest.raises(LookaheadError, match="not ready") as err:
        cache.commit("s", branch.id)
    assert err.value.status == 409 and shape(cache) == before
    assert cache.book.session("s").context == CONTEXT


@pytest.mark.parametrize("call, status", [
    (lambda c: c.prepare("nope", [1], "x", 1), 404),
    (lambda c: c.prepare("s", [77, 1], "x", 1), 400),          # does not fork from context
    (lambda c: c.prepare("s", [], "x", 1), 400),
    (lambda c: c.prepare("s", [1, -3], "x", 1), 400),
    (lambda c: c.commit("s", "b999"), 404),
    (lambda c: c.open_session("s"), 409),
])
def test_bad_requests_are_refused_with_status(cache, call, status):
    before = shape(cache)
    with pytest.raises(LookaheadError) as err:
        call(cache)
    assert err.value.status == status and shape(cache) == before


def test_out_of_vocabulary_tokens_refused():
    c = make_cache(64, vocab_size=50)
    c.open_session("s", [1, 2])
    with pytest.raises(LookaheadError, match="out of vocabulary"):
        c.prepare("s", [1, 2, 50], "x", 1)


def test_close_session_abandons_and_unpins(cache):
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    prefill(cache, branch)
    cache.pin("s", tool="bash", ttl_s=5)
    cache.close_session("s")
    assert branch.state is BranchState.ABANDONED and "s" not in cache.book.sessions
    assert cache.protected_size() == 0 and not cache.pins
    cache.check_integrity(expected_free=True)


def test_reset_abandons_everything(cache):
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    prefill(cache, branch)
    cache.reset()
    assert branch.state is BranchState.ABANDONED and branch.history[-1].reason == "tree reset"
    assert shape(cache) == ()


def test_budget_abandons_oldest_work_first():
    clock = FakeClock()
    c = make_cache(64, clock=clock, budget_tokens=5)
    cache_sequence(c, [1, 2])
    for sid in ("a", "b"):
        c.open_session(sid, [1, 2])
    old = c.prepare("a", [1, 2, 3, 3, 3], "summary", 1)
    prefill(c, old)
    clock.t += 1
    new = c.prepare("b", [1, 2, 4, 4, 4], "summary", 1)
    # held: [3,3,3] + [4,4,4] = 6 > 5 -> oldest goes ([1,2] is the sessions' own context)
    prefill(c, new)
    assert old.state is BranchState.ABANDONED and old.history[-1].reason == "over lookahead budget"
    assert new.state is BranchState.READY and c.held_tokens() == 3
    with pytest.raises(LookaheadError) as err:
        c.prepare("a", [1, 2] + [5] * 10, "window", 1)
    assert err.value.status == 413
    c.check_integrity(expected_free=True)


def test_prefill_finishing_after_abandon_leaves_nothing_protected(cache):
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    cache.close_session("s")                       # closed mid-preparation
    assert branch.state is BranchState.ABANDONED
    prefill(cache, branch)                         # the background request still lands
    assert cache.protected_size() == 0
    cache.check_integrity(expected_free=True)


def test_catch_up_landing_after_commit_is_kept_as_the_sessions_continuation(cache):
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    prefill(cache, branch)
    cache.append("s", branch.id, [7, 7])            # catch-up in flight ...
    cache.commit("s", branch.id)                    # ... when the commit happens
    assert branch.state is BranchState.COMMITTED and branch.pending_tokens is None
    cache_sequence(cache, SUMMARY + [7, 7])         # the late catch-up request lands
    cache.on_prefill_landed(branch.id)
    assert matched(cache, SUMMARY + [7, 7]) == 6 and not cache.discarded
    assert shape(cache) == (((1, 2), 1, ((9, 9), 1, ((7, 7), 0))),)
    cache.check_integrity(expected_free=True)


def test_retried_control_calls_change_nothing(cache):
    """A client (or a router) that retries a call gets the first call's result, not an error."""
    branch = cache.prepare("s", SUMMARY, "summary", 1, "sig")
    assert cache.prepare("s", SUMMARY, "summary", 1, "sig") is branch
    assert len(cache.book.session("s").branches) == 1
    prefill(cache, branch)
    assert cache.commit("s", branch.id) is branch
    history = list(branch.history)
    assert cache.commit("s", branch.id) is branch and branch.history == history
    other = cache.prepare("s", [1, 2, 9, 9, 7], "window", 1)
    assert cache.abandon("s", other.id, "x") is other
    assert cache.abandon("s", other.id, "x") is other and other.state is BranchState.ABANDONED
    assert len(other.history) == 2
    cache.check_integrity()


def test_a_withdrawn_version_never_registers(cache):
    """The caller committed before the answer to its prepare: the prepare, arriving after the
    withdraw, registers nothing; a newer version still does."""
    assert cache.withdraw("s", "summary", 3, "withdrawn: the commit came first") == []
    with pytest.raises(LookaheadError) as refused:
        cache.prepare("s", SUMMARY, "summary", 3)
    assert refused.value.status == 409 and "withdrawn" in str(refused.value)
    assert cache.book.session("s").branches == [] and cache.protected_size() == 0
    assert cache.prepare("s", SUMMARY, "window", 3).state is BranchState.PREPARING  # others
    assert cache.prepare("s", SUMMARY, "summary", 4).state is BranchState.PREPARING
    cache.check_integrity(expected_free=True)


def test_a_withdrawn_branch_is_abandoned_keeping_what_landed(cache):
    """The withdraw came after the prepare registered and part of its prefill landed: the
    branch is abandoned, what landed stays as plain evictable cache (no waste) for the commit
    request to reuse."""
    branch = cache.prepare("s", SUMMARY, "summary", 1)
    cache_sequence(cache, SUMMARY[:3])                 # one chunk landed
    ended = cache.withdraw("s", "summary", 1, "withdrawn: the commit came first")
    assert ended == [branch] and branch.state is BranchState.ABANDONED
    assert branch.history[-1].reason == "withdrawn: the commit came first"
    assert cache.protected_size() == 0 and matched(cache, SUMMARY) == 3
    assert sum(cache.ledger.to_json()["wasted"].values()) == 0
    cache.check_integrity(expected_free=True)
