"""SuffixAutomaton: exact matches, counts and drafts on hand-checked sequences."""
import pytest

from agentrt.speculative.automaton import SuffixAutomaton
from agentrt.speculative.draft import Draft


def test_empty_and_no_repeat_give_no_draft():
    assert SuffixAutomaton().propose(4) == Draft()
    sam = SuffixAutomaton([1, 2, 3, 4])
    assert sam.match_len() == 0
    assert sam.propose(4) == Draft()


def test_chain_copies_the_earlier_continuation():
    # 5 6 7 8 9 | 5 6 7 -> the suffix "5 6 7" occurred earlier, followed by 8 9 5 6 7
    sam = SuffixAutomaton([5, 6, 7, 8, 9, 5, 6, 7])
    assert sam.match_len() == 3
    draft = sam.propose(4)
    assert draft == Draft((8, 9, 5, 6), (-1, 0, 1, 2), (1.0, 1.0, 1.0, 1.0), 3, 1, "request")


def test_counts_rank_continuations_and_give_probabilities():
    # after "1": 2 twice, 3 once; the sequence ends in "1"
    sam = SuffixAutomaton([1, 2, 1, 2, 1, 3, 1])
    assert sam.match_len() == 1
    draft = sam.propose(3, max_branches=2)
    # best first: 2 (2/3), then "1 2" -> 1 (2/3 x 2/2), then 3 (1/3)
    assert draft.tokens == (2, 1, 3)
    assert draft.parents == (-1, 0, -1)
    assert draft.probs == (2 / 3, 2 / 3, 1 / 3)
    assert draft.support == 3


def test_equal_counts_prefer_the_most_recently_first_seen():
    sam = SuffixAutomaton([9, 1, 9, 2, 9])
    draft = sam.propose(2, max_branches=2)
    assert draft.tokens == (2, 1)
    assert draft.probs == (0.5, 0.5)


def test_branch_depth_limits_branching_to_the_first_levels():
    seq = [7, 1, 2, 7, 1, 3, 7, 4, 5, 7, 4, 6, 7]
    wide = SuffixAutomaton(seq).propose(8, max_branches=2, branch_depth=2)
    narrow = SuffixAutomaton(seq).propose(8, max_branches=2, branch_depth=1)
    assert wide.depths().count(1) == 2 and wide.depths().count(2) == 4
    assert narrow.depths().count(1) == 2 and narrow.depths().count(2) == 2


def test_min_prob_drops_unlikely_branches():
    sam = SuffixAutomaton([1, 2, 1, 2, 1, 3, 1])
    assert sam.propose(3, max_branches=2, min_prob=0.5).tokens[:1] == (2,)
    assert 3 not in sam.propose(3, max_branches=2, min_prob=0.5).tokens[:2]


def test_count_is_capped():
    assert SuffixAutomaton([4] * 40, count_cap=5).propose(3).support == 1  # 39 x "4": twice
    sam = SuffixAutomaton([4] * 40 + [5, 4], count_cap=5)
    assert sam.match_len() == 1
    assert sam.propose(3).support == 4  # "4" occurs 41 times


def test_incremental_equals_batch_build():
    seq = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3]
    inc = SuffixAutomaton()
    for t in seq:
        inc.append(t)
    batch = SuffixAutomaton(seq)
    assert inc.propose(6, max_branches=3) == batch.propose(6, max_branches=3)
    assert inc.num_states <= 2 * len(seq)


def test_count_cap_must_be_positive():
    with pytest.raises(ValueError):
        SuffixAutomaton(count_cap=0)
