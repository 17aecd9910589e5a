"""AcceptanceTracker: what one observation adds, and how the rate moves from the prior."""
import pytest

from agentrt.speculative.calibration import (BUCKETS, AcceptanceTracker, bucket, conditionals,
                                             prior)
from agentrt.speculative.draft import Draft

TREE = Draft((5, 6, 7), (-1, 0, -1), (0.75, 0.75, 0.25), match_len=3)


def test_buckets_and_prior():
    assert [bucket(m) for m in (0, 1, 2, 5, 6, 32, 33)] == [0, 0, 1, 4, 4, 9, len(BUCKETS)]
    assert prior(0, 2.5) == 0.0 and prior(5, 2.5) == 5 / 7.5


def test_conditionals():
    assert conditionals(TREE) == (0.75, 1.0, 0.25)


def test_observe_walks_the_committed_path():
    t = AcceptanceTracker()
    t.observe(TREE, [5, 6, 9])                # hit at m=3 (5 of 5|7), hit at m=4, then no node
    assert t.expected[bucket(3)] == 1.0 and t.hits[bucket(3)] == 1.0
    assert t.expected[bucket(4)] == 1.0 and t.hits[bucket(4)] == 1.0
    t.observe(TREE, [8])                      # miss at m=3
    assert t.expected[bucket(3)] == 2.0 and t.hits[bucket(3)] == 1.0
    t.observe(TREE, [])                       # nothing committed: nothing learned
    assert sum(t.expected) == 3.0


def test_rate_starts_at_the_prior_and_follows_observations():
    t = AcceptanceTracker(match_half=2.5, weight=4.0)
    assert t.rate(3) == pytest.approx(prior(3, 2.5))
    chain = Draft((1,), (-1,), (1.0,), match_len=3)
    for _ in range(36):
        t.observe(chain, [2])                 # always wrong
    assert t.rate(3) == pytest.approx(4 * prior(3, 2.5) / 40)
    assert t.rate(20) == pytest.approx(prior(20, 2.5))   # other buckets untouched
