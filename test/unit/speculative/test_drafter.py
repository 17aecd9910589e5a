"""RequestDrafter / DrafterPool: source choice, width cut, session reuse, store hand-off."""
from agentrt.speculative.draft import Draft
from agentrt.speculative.drafter import DrafterConfig, DrafterPool, RequestDrafter
from agentrt.speculative.policy import WidthPolicy
from agentrt.speculative.store import SequenceStore

REPEAT = list(range(100, 130))          # a 30-token span the request repeats


def test_request_draft_is_cut_by_the_policy():
    drafter = RequestDrafter(REPEAT + [1] + REPEAT[:20])
    proposal = drafter.propose()
    assert proposal.full.source == "request" and proposal.full.match_len == 20
    assert proposal.full.tokens == tuple(REPEAT[20:28])
    assert proposal.width.width == 8 and proposal.draft == proposal.full


def test_short_match_means_plain_decoding():
    config = DrafterConfig(policy=WidthPolicy(min_match=2))
    proposal = RequestDrafter([1, 2, 3, 9, 3], config=config).propose()   # match "3": 1 token
    assert proposal.full.match_len == 1
    assert proposal.width.width == 0 and proposal.draft == Draft((), (), (), 1, 1, "request")


def test_observed_misses_turn_drafting_off():
    drafter = RequestDrafter([1, 2, 3, 9, 3])
    assert drafter.propose().width.width == 2          # the prior alone: 9 then 3 pay off
    drafter.extend([7])                                # observed: the draft's 9 was wrong
    assert drafter.tracker.hits[0] == 0.0 and drafter.tracker.expected[0] == 1.0
    miss = Draft((9,), (-1,), (1.0,), match_len=1)
    for _ in range(40):
        drafter.tracker.observe(miss, [7])
    drafter.extend([3])
    assert drafter.propose().width.width == 0
    off = RequestDrafter([1, 2, 3, 9, 3], config=DrafterConfig(calibrate=False))
    off.tracker.observe(miss, [7])
    assert off.propose().width.width == 2


def test_store_drafts_only_when_it_matches_longer():
    store = SequenceStore()
    store.put("old", [7] + REPEAT, group="g")
    drafter = RequestDrafter([5, 6] + REPEAT[:10], group="g", store=store)
    draft = drafter.draft()
    assert draft.source == "store" and draft.match_len == 10
    assert draft.tokens == tuple(REPEAT[10:18])
    own = RequestDrafter(REPEAT[:12] + [1] + REPEAT[:10], store=store)
    assert own.draft().source == "request"                 # own match 10 == store's: own wins
    off = RequestDrafter([5, 6] + REPEAT[:10], store=store,
                         config=DrafterConfig(use_store=False))
    assert off.draft().source == "none"


def test_pool_reuses_a_session_automaton_and_feeds_the_store():
    pool = DrafterPool(DrafterConfig(policy=WidthPolicy(max_width=4)))
    first = pool.start("r1", REPEAT, group="agent", session="s")
    pool.update("r1", [1, 2])
    pool.finish("r1")
    assert "s" in pool.store and pool.store.num_tokens == 32
    second = pool.start("r2", REPEAT + [1, 2, 3] + REPEAT[:6], group="agent", session="s")
    assert second is first and len(second.tokens) == 39
    [proposal] = pool.propose_batch(["r2"])
    assert proposal.draft.tokens == tuple(REPEAT[6:10])
    other = pool.start("r3", [9] + REPEAT[:6], session="s2")
    assert other is not first and pool.propose_batch(["r3"])[0].full.source == "store"
    pool.erase(["r3", "missing"])
    assert "r3" not in pool and "s2" not in pool.store


def test_pool_rebuilds_when_the_prompt_was_edited():
    pool = DrafterPool()
    first = pool.start("r1", REPEAT, session="s")
    pool.finish("r1")
    second = pool.start("r2", [0] + REPEAT[5:], session="s")
    assert second is not first and second.tokens == [0] + REPEAT[5:]


def test_an_unverified_last_proposal_is_not_learned_from_the_next_prompt():
    pool = DrafterPool()
    drafter = pool.start("r1", REPEAT + [1] + REPEAT[:20], session="s")
    assert pool.propose_batch(["r1"])[0].width.width > 0
    pool.finish("r1")                                   # ended without a verify step
    pool.start("r2", drafter.tokens + [9, 9, 9], session="s")
    assert sum(drafter.tracker.expected) == 0.0
