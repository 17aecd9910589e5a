"""Pack drafts into the fixed-width layout SGLang's n-gram verify path reads.

SGLang 0.5.23's ``NgramCorpus.batch_get`` hands its worker, per request, ``n`` slots
(``--speculative-num-draft-tokens``) and an ``n x n`` mask, flattened over the batch:

| slot | token               | parent            | mask row i                        |
|------|---------------------|-------------------|-----------------------------------|
| 0    | last committed token| none (the root)   | only itself                       |
| 1..d | draft node k = i-1  | 1 + parents[k], or 0 for a root child | its ancestors and itself |
| d+1..n-1 | 0 (padding)     | the slot before it | its ancestors and itself         |

``mask[b, i, j]`` is True when slot j is slot i or one of its ancestors; parents precede their
children, so the worker's ``reconstruct_indices_from_tree_mask`` recovers the tree from it.
Padding continues from the last slot (the root when the draft is empty), so a chain draft
packs as a chain over all n slots: a batch whose drafts are all chains (the served drafter's
are) has a lower-triangular mask in every request, which ``agentrt_cpu``'s verify runs as
causal extend in C++; pads hanging off the root (SGLang's own corpus pads so) would send every
batch holding drafts of unequal lengths to the masked torch path. Exact either way: greedy
verify accepts a slot only when its token equals the model's own next token, so an accepted
pad is correct. A draft longer than ``n - 1`` is cut to its first ``n - 1`` nodes.
"""
from typing import Sequence

import numpy as np

from agentrt.speculative.draft import Draft


def slot_parents(draft: Draft, num_slots: int) -> list[int]:
    """Parent slot of every slot (-1 for the root) under the table above."""
    if num_slots < 1:
        raise ValueError("num_slots must be >= 1")
    kept = draft.truncate(num_slots - 1)
    parents = [-1] + [p + 1 for p in kept.parents]
    return parents + list(range(len(parents) - 1, num_slots - 1))


def pack(draft: Draft, last_token: int, num_slots: int) -> tuple[np.ndarray, np.ndarray]:
    """One request: (tokens int64 [n], mask bool [n, n])."""
    parents = slot_parents(draft, num_slots)
    kept = draft.truncate(num_slots - 1)
    tokens = np.zeros(num_slots, dtype=np.int64)
    tokens[0] = last_token
    tokens[1:1 + len(kept)] = kept.tokens
    mask = np.zeros((num_slots, num_slots), dtype=bool)
    for i, p in enumerate(parents):
        if p >= 0:
            mask[i, :p + 1] = mask[p, :p + 1]
        mask[i, i] = True
    return tokens, mask


def pack_batch(drafts: Sequence[Draft], last_tokens: Sequence[int],
               num_slots: int) -> tuple[np.ndarray, np.ndarray]:
    """A batch in ``batch_get``'s shape: (tokens int64 [bs * n], mask bool [bs * n * n])."""
    if len(drafts) != len(last_tokens):
        raise ValueError("one last token per draft")
    if not drafts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    packed = [pack(d, t, num_slots) for d, t in zip(drafts, last_tokens)]
    return (np.concatenate([t for t, _ in packed]),
            np.concatenate([m.reshape(-1) for _, m in packed]))


def batch_slots(drafts: Sequence[Draft], max_slots: int) -> int:
    """Slots for a batch: 1 + the widest draft, at most ``max_slots`` (SGLang pads to it)."""
    return min(max_slots, 1 + max((len(d) for d in drafts), default=0))
