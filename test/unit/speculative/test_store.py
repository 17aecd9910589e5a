"""SequenceStore: exact drafts, group preference, LRU eviction, honest byte estimate."""
import random
import tracemalloc

from agentrt.speculative.draft import Draft
from agentrt.speculative.store import SequenceStore, StoreConfig


def test_proposes_the_continuation_of_a_stored_sequence():
    store = SequenceStore()
    store.put("s1", [1, 2, 3, 4, 5, 6, 7], group="g")
    draft = store.propose([9, 9, 2, 3, 4], max_tokens=3)
    assert draft == Draft((5, 6, 7), (-1, 0, 1), (1.0, 1.0, 1.0), 3, 1, "store")


def test_no_draft_without_an_ngram_hit_or_below_min_match():
    store = SequenceStore()
    store.put("s1", [1, 2, 3, 4, 5])
    assert store.propose([7, 8, 9]) == Draft()
    assert store.propose([2, 3]) == Draft()              # shorter than the 3-gram key
    assert store.propose([1, 2, 3, 4], min_match=5) == Draft()
    assert store.propose([3, 4, 5]) == Draft()           # nothing follows the hit


def test_same_group_wins_unless_another_matches_longer_than_the_bonus():
    store = SequenceStore(StoreConfig(group_bonus=2))
    store.put("mine", [0, 0, 1, 2, 3, 10], group="me")
    store.put("other", [5, 7, 1, 2, 3, 20], group="them")
    assert store.propose([8, 7, 1, 2, 3], group="me", max_tokens=1).tokens == (10,)
    assert store.propose([8, 7, 1, 2, 3], group=None, max_tokens=1).tokens == (20,)
    store.put("far", [4, 5, 6, 7, 1, 2, 3, 30], group="them")
    assert store.propose([4, 5, 6, 7, 1, 2, 3], group="me", max_tokens=1).tokens == (30,)


def test_branches_count_hits_and_break_ties_by_recency():
    store = SequenceStore()
    store.put("a", [1, 2, 3, 4])
    store.put("b", [1, 2, 3, 5])
    store.put("c", [1, 2, 3, 4])
    draft = store.propose([1, 2, 3], max_tokens=2, max_branches=2)
    assert draft.tokens == (4, 5) and draft.probs == (2 / 3, 1 / 3)
    assert draft.support == 3
    store.put("d", [1, 2, 3, 6])
    assert store.propose([1, 2, 3], max_tokens=3, max_branches=3).tokens == (4, 6, 5)


def test_put_replaces_a_key_and_remove_forgets_it():
    store = SequenceStore()
    store.put("s", [1, 2, 3, 4])
    store.put("s", [1, 2, 3, 9])
    assert len(store) == 1 and store.num_tokens == 4
    assert store.propose([1, 2, 3], max_tokens=1).tokens == (9,)
    store.remove("s")
    assert len(store) == 0 and store.bytes_used == 0


def test_lru_eviction_keeps_the_budget_and_recently_used():
    one = SequenceStore.cost(100)
    store = SequenceStore(StoreConfig(capacity_bytes=3 * one))
    rng = random.Random(1)
    seqs = {k: [rng.randrange(10_000) for _ in range(100)] for k in "abcd"}
    for k in "abc":
        store.put(k, seqs[k])
    assert store.propose(seqs["a"][:10], max_tokens=1).tokens == (seqs["a"][10],)  # touch a
    store.put("d", seqs["d"])
    assert "b" not in store and {"a", "c", "d"} <= set(store._entries)
    assert store.bytes_used <= 3 * one and store.evictions == 1
    assert not store.put("huge", [1] * 10_000)


def test_byte_estimate_is_within_20_percent_of_tracemalloc():
    rng = random.Random(0)
    for vocab in (40, 49_152):
        tracemalloc.start()
        store = SequenceStore()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(20):
            store.put(i, [rng.randrange(vocab) for _ in range(1000)], group=i % 3)
        used = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert 0.8 <= used / store.bytes_used <= 1.2, (vocab, used, store.bytes_used)


def test_random_drafts_continue_a_stored_occurrence_and_budget_holds():
    rng = random.Random(7)
    for _ in range(30):
        cap = SequenceStore.cost(60) * rng.randint(1, 5)
        store = SequenceStore(StoreConfig(capacity_bytes=cap, ngram=rng.randint(1, 3)))
        kept = {}
        for key in range(rng.randint(1, 8)):
            seq = [rng.randrange(3) for _ in range(rng.randint(1, 60))]
            store.put(key, seq, group=key % 2)
            kept[key] = seq
            assert store.bytes_used <= cap
        context = [rng.randrange(3) for _ in range(rng.randint(1, 12))]
        draft = store.propose(context, group=0, max_tokens=6)
        if not len(draft):
            continue
        m, chain = draft.match_len, list(draft.chain())
        assert any(seq[j - m + 1:j + 1] == context[-m:] and seq[j + 1:j + 1 + len(chain)] == chain
                   for key, seq in kept.items() if key in store
                   for j in range(m - 1, len(seq)))
    for key in list(store._entries):
        store.remove(key)
    assert store.bytes_used == 0 and not store._index
