"""Packing drafts into SGLang's n-gram verify layout (root slot, parents-first, padding that
continues from the last slot)."""
import numpy as np
import pytest

from agentrt.speculative.draft import Draft
from agentrt.speculative.layout import batch_slots, pack, pack_batch, slot_parents

TREE = Draft((5, 6, 7, 8), (-1, 0, -1, 1), (0.6, 0.6, 0.4, 0.6), match_len=3)


def parents_from_mask(mask: np.ndarray) -> list[int]:
    """What SGLang's host-side link derivation reads: the nearest earlier ancestor."""
    n = mask.shape[0]
    out = []
    for i in range(n):
        earlier = [j for j in range(i) if mask[i, j]]
        out.append(max(earlier) if earlier else -1)
    return out


def test_pack_puts_the_root_first_and_pads_from_the_last_slot():
    tokens, mask = pack(TREE, last_token=42, num_slots=7)
    assert tokens.tolist() == [42, 5, 6, 7, 8, 0, 0]
    assert slot_parents(TREE, 7) == [-1, 0, 1, 0, 2, 4, 5]
    assert parents_from_mask(mask) == [-1, 0, 1, 0, 2, 4, 5]
    assert mask[4].tolist() == [True, True, True, False, True, False, False]
    assert mask[6].tolist() == [True, True, True, False, True, True, True]
    assert mask.dtype == bool and tokens.dtype == np.int64


def test_a_padded_chain_is_lower_triangular():
    """Chains of any length (none included) pack as one n-slot chain: the mask the C++ verify
    path takes (agentrt_kernels.ops.verify_attention)."""
    chain = np.tril(np.ones((5, 5), dtype=bool))
    for draft in (Draft(), Draft((9,), (-1,), (0.5,), 1), Draft((9, 8), (-1, 0), (0.5, 0.5), 2)):
        tokens, mask = pack(draft, 1, 5)
        assert (mask == chain).all()
        assert tokens.tolist() == [1, *draft.tokens] + [0] * (4 - len(draft))
    _, batch = pack_batch([Draft(), Draft((9, 8), (-1, 0), (0.5, 0.5), 2)], [1, 2], 5)
    assert (batch.reshape(2, 5, 5) == chain).all()


def test_pack_matches_the_draft_ancestor_mask_and_cuts_long_drafts():
    _, mask = pack(TREE, 1, 5)
    assert mask[1:, 1:].tolist() == TREE.ancestor_mask()
    assert mask[1:, 0].all()
    tokens, small = pack(TREE, 1, 3)
    assert tokens.tolist() == [1, 5, 6] and parents_from_mask(small) == [-1, 0, 1]


def test_pack_batch_flattens_like_batch_get():
    tokens, mask = pack_batch([TREE, Draft()], [42, 43], num_slots=5)
    assert tokens.tolist() == [42, 5, 6, 7, 8, 43, 0, 0, 0, 0]
    assert mask.shape == (2 * 5 * 5,)
    assert mask.reshape(2, 5, 5)[1].tolist() == pack(Draft(), 43, 5)[1].tolist()
    with pytest.raises(ValueError):
        pack_batch([TREE], [], 5)


def test_batch_slots_follow_the_widest_draft():
    assert batch_slots([TREE, Draft()], max_slots=12) == 5
    assert batch_slots([TREE], max_slots=3) == 3
    assert batch_slots([], max_slots=8) == 1
