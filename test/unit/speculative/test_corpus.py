"""DrafterCorpus: SGLang n-gram corpus calls (batch_get sync, layout, erase, reset)."""
import pytest

from agentrt.speculative.corpus import DrafterCorpus
from agentrt.speculative.drafter import DrafterConfig
from agentrt.speculative.policy import WidthPolicy

SPAN = list(range(100, 120))
CONFIG = DrafterConfig(policy=WidthPolicy(max_width=4, match_half=1e-9), calibrate=False)


def test_batch_get_drafts_from_the_full_prompt_and_follows_committed_tokens():
    corpus = DrafterCorpus(num_slots=5, config=CONFIG)
    seq = SPAN + [1] + SPAN[:3]
    corpus.start("r", seq)
    tokens, mask = corpus.batch_get(["r"], [seq[-18:]], [len(seq)])
    assert tokens.tolist() == [102, 103, 104, 105, 106]
    assert corpus.last_widths == [4] and mask.shape == (25,)
    seq += [103, 104, 105, 106, 107]                  # 4 accepted + the model's token
    tokens, _ = corpus.batch_get(["r"], [seq[-18:]], [len(seq)])
    assert corpus.pool.drafter("r").tokens == seq
    assert tokens.tolist() == [107, 108, 109, 110, 111]
    assert corpus.rebuilds == 0


def test_unknown_requests_start_from_their_tail_and_gaps_rebuild():
    corpus = DrafterCorpus(num_slots=3, config=CONFIG)
    tokens, _ = corpus.batch_get(["x", "y"], [[5, 6, 5], [9]], [100, 1])
    assert tokens.tolist() == [5, 6, 5, 9, 0, 0]
    assert corpus.last_widths == [2, 0]
    corpus.batch_get(["x"], [[7, 8]], [200])          # 100 tokens missing, 2 shown
    assert corpus.rebuilds == 1 and corpus.pool.drafter("x").tokens == [7, 8]
    with pytest.raises(ValueError):
        corpus.batch_get(["x"], [[]], [200])


def test_erase_stores_the_sequence_and_reset_forgets_everything():
    corpus = DrafterCorpus(num_slots=4, config=CONFIG)
    corpus.start("r", SPAN, session="s")
    corpus.batch_put([[1]])
    corpus.synchronize()
    corpus.erase_match_state(["r", "never-started"])
    assert "r" not in corpus.pool and "s" in corpus.pool.store
    tokens, _ = corpus.batch_get(["n"], [[0, 104, 105, 106]], [4])
    assert tokens.tolist() == [106, 107, 108, 109]     # from the store
    corpus.reset()
    assert len(corpus.pool.store) == 0 and "n" not in corpus.pool
    with pytest.raises(ValueError):
        DrafterCorpus(num_slots=0)


def test_batch_get_adaptive_packs_only_the_slots_the_widest_draft_needs():
    corpus = DrafterCorpus(num_slots=5, config=CONFIG)
    seq = SPAN + [1] + SPAN[:3]
    corpus.start("r", seq)
    corpus.start("fresh", [7, 8, 9])                  # nothing to match: width 0
    tokens, mask, slots = corpus.batch_get_adaptive(["r", "fresh"], [seq[-18:], [7, 8, 9]],
                                                     [len(seq), 3])
    assert slots == 5 and tokens.tolist() == [102, 103, 104, 105, 106, 9, 0, 0, 0, 0]
    assert mask.shape == (2 * 25,)
    tokens, mask, slots = corpus.batch_get_adaptive(["fresh"], [[7, 8, 9]], [3])
    assert slots == 1 and tokens.tolist() == [9] and mask.tolist() == [True]
