"""Width policy: exact widths, expected tokens and predicted speed-ups."""
import pytest

from agentrt.speculative.draft import Draft
from agentrt.speculative.policy import (PLAIN, StepCost, Width, WidthPolicy, acceptance,
                                        choose_width, decide, match_prior)

POLICY = WidthPolicy()  # 40 ms + 4 ms per token, max width 8, min match 2, half 4


def test_step_cost():
    assert StepCost().verify_ms(0) == 40.0
    assert StepCost().verify_ms(8) == 72.0  # 1.8x a plain step


def test_choose_width_takes_the_best_predicted_speedup():
    got = choose_width([0.9, 0.8, 0.5, 0.1], POLICY)
    # speed-ups: 1.9*40/44, 2.7*40/48, 3.2*40/52 (best), 3.3*40/56
    assert got.width == 3
    assert got.expected_accepted == pytest.approx(2.2)
    assert got.predicted_speedup == pytest.approx(3.2 * 40 / 52)


def test_full_acceptance_uses_the_whole_width():
    got = choose_width([1.0] * 12, POLICY)
    assert got == Width(8, 8.0, 9 * 40 / 72)


def test_falls_back_to_plain_decoding_below_break_even():
    # one draft breaks even at 4/40 = 0.1 accepted tokens: 0.1 is not enough, 0.11 is
    assert choose_width([0.1], POLICY) == PLAIN
    assert choose_width([0.11], POLICY).width == 1
    assert choose_width([0.05] * 8, POLICY) == PLAIN
    assert choose_width([], POLICY) == PLAIN
    strict = WidthPolicy(min_speedup=1.2)
    assert choose_width([0.11], strict) == PLAIN
    assert choose_width([0.9], strict) == Width(1, 0.9, 1.9 * 40 / 44)


def test_ties_keep_the_smaller_width():
    # the second token adds exactly its cost: 1.375*40/44 == 1.5*40/48 == 1.25
    assert choose_width([0.375, 0.125], POLICY) == Width(1, 0.375, 1.25)


def test_match_prior():
    assert match_prior(4, 0, 4.0) == 1.0
    assert match_prior(4, 1, 4.0) == 0.5
    assert match_prior(4, 2, 4.0) == pytest.approx(0.5 * 5 / 9)
    assert match_prior(12, 1, 4.0) == 0.75


def test_acceptance_multiplies_frequency_by_the_prior_at_each_depth():
    draft = Draft((7, 8, 9), (-1, 0, -1), (0.5, 0.5, 0.5), match_len=4)
    assert acceptance(draft, 4.0) == pytest.approx((0.25, 0.5 * 0.5 * 5 / 9, 0.25))


def test_decide_needs_a_minimum_match():
    chain = Draft((1, 2, 3, 4), (-1, 0, 1, 2), (1.0,) * 4, match_len=1)
    assert decide(chain, POLICY) == PLAIN
    long = Draft((1, 2, 3, 4), (-1, 0, 1, 2), (1.0,) * 4, match_len=28)
    got = decide(long, POLICY)
    # priors 28/32, *29/33, *30/34, *31/35 -> all four pay off
    priors = [match_prior(28, d, 4.0) for d in (1, 2, 3, 4)]
    assert got.width == 4
    assert got.expected_accepted == pytest.approx(sum(priors))
    assert got.predicted_speedup == pytest.approx((1 + sum(priors)) * 40 / 56)
    assert decide(Draft(), POLICY) == PLAIN
