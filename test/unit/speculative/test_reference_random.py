"""The automaton against the naive reference, incrementally, on random small-alphabet strings.

hypothesis is not in the venv; seeded random strings instead (reproducible, 300 sequences).
"""
import random

import pytest

from agentrt.speculative.automaton import SuffixAutomaton
from agentrt.speculative.reference import longest_earlier_suffix, naive_propose

SHAPES = [  # (max_tokens, max_branches, branch_depth, min_prob)
    (1, 1, 1, 0.0), (6, 1, 1, 0.0), (8, 3, 1, 0.0), (8, 2, 3, 0.0), (10, 4, 2, 0.2),
]


@pytest.mark.parametrize("seed", range(6))
def test_automaton_equals_reference_at_every_length(seed):
    rng = random.Random(seed)
    for _ in range(50):
        alphabet = rng.randint(1, 4)
        length = rng.randint(1, 36)
        cap = rng.choice([1, 2, 3, 16])
        seq = [rng.randrange(alphabet) for _ in range(length)]
        sam = SuffixAutomaton(count_cap=cap)
        for i, t in enumerate(seq):
            sam.append(t)
            prefix = seq[:i + 1]
            assert sam.match_len() == longest_earlier_suffix(prefix), prefix
            shape = SHAPES[(i + seed) % len(SHAPES)]
            got = sam.propose(*shape)
            want = naive_propose(prefix, *shape, cap=cap)
            assert got == want, (prefix, shape, cap)
