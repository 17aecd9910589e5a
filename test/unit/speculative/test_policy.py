"""Width policy: exact widths, expected tokens and predicted speed-ups."""
import pytest

from agentrt.speculative.calibration import prior
from agentrt.speculative.draft import Draft
from agentrt.speculative.policy import (PLAIN, StepCost, Width, WidthPolicy, acceptance,
                                        choose_batch_width,
                                        choose_width, decide)

POLICY = WidthPolicy(match_half=4.0, min_speedup=1.0)  # 40 ms + 4 ms per token, max 8


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
    assert choose_width([1.0] * 12, POLICY) == Width(8, 8.0, 9 * 40 / 72)


def test_falls_back_to_plain_decoding_below_break_even():
    # one draft breaks even at 4/40 = 0.1 accepted tokens: 0.1 is not enough, 0.11 is
    assert choose_width([0.1], POLICY) == PLAIN
    assert choose_width([0.11], POLICY).width == 1
    assert choose_width([0.05] * 8, POLICY) == PLAIN
    assert choose_width([], POLICY) == PLAIN


def test_default_policy_asks_for_a_five_percent_gain():
    default = WidthPolicy()
    assert default.min_speedup == 1.05
    assert choose_width([0.155], default) == PLAIN        # 1.155 * 40 / 44 = 1.05
    assert choose_width([0.375], default) == Width(1, 0.375, 1.25)


def test_ties_keep_the_smaller_width():
    # the second token adds exactly its cost: 1.375*40/44 == 1.5*40/48 == 1.25
    assert choose_width([0.375, 0.125], POLICY) == Width(1, 0.375, 1.25)


def test_acceptance_multiplies_frequencies_by_the_rate_at_each_depth():
    draft = Draft((7, 8, 9), (-1, 0, -1), (0.5, 0.5, 0.5), match_len=4)
    rates = {4: 0.5, 5: 0.8}
    # node 1 is certain given node 0 (cond 1.0), one token deeper (m = 5)
    assert acceptance(draft, rates.__getitem__) == (0.25, 0.25 * 0.8, 0.25)
    # min(1, cond * rate) caps each level at 1
    assert acceptance(draft, lambda m: 3.0) == (1.0, 1.0, 1.0)


def test_decide_needs_a_minimum_match_and_uses_the_prior_by_default():
    chain = Draft((1, 2, 3, 4), (-1, 0, 1, 2), (1.0,) * 4, match_len=1)
    assert decide(chain, WidthPolicy(match_half=4.0, min_match=2)) == PLAIN
    assert decide(chain, POLICY).width == 1     # h(1) = 0.2: only the first pays off
    long = Draft((1, 2, 3, 4), (-1, 0, 1, 2), (1.0,) * 4, match_len=28)
    got = decide(long, POLICY)
    accept = [prior(28, 4.0)]
    for m in (29, 30, 31):
        accept.append(accept[-1] * prior(m, 4.0))
    assert got.width == 4
    assert got.expected_accepted == pytest.approx(sum(accept))
    assert got.predicted_speedup == pytest.approx((1 + sum(accept)) * 40 / 56)
    assert decide(long, POLICY, rate=lambda m: 0.05) == PLAIN
    assert decide(Draft(), POLICY) == PLAIN


def test_batch_cost_counts_every_token_in_the_forward():
    cost = StepCost()
    assert cost.batch_ms(1, 8) == cost.verify_ms(8) == 72.0
    assert cost.batch_ms(4, 0) == 52.0              # a plain step of 4
    assert cost.batch_ms(4, 8) == 40.0 + 4.0 * 35   # 36 tokens


def test_batch_of_one_is_the_width_rule():
    for accept in ([0.9, 0.8, 0.5, 0.1], [0.1], [1.0] * 12, [0.375, 0.125], []):
        assert choose_batch_width([accept], POLICY) == choose_width(accept, POLICY)


def test_batch_width_pays_every_request_slots():
    # one request drafts perfectly, three have nothing: alone it would verify 8 (2.0x),
    # in a batch of 4 each slot costs 4 tokens
    sure, none = [1.0] * 8, []
    assert choose_width(sure, POLICY).width == 8
    # w: (4 + w) / 4 * 52 / (52 + 16 w): w=1 0.956, falling: plain decoding
    assert choose_batch_width([sure, none, none, none], POLICY) == PLAIN
    # two of four sure: (4 + 2 w) / 4 * 52 / (52 + 16 w) rises with w: the whole width
    got = choose_batch_width([sure, sure, none, none], POLICY)
    assert got == Width(8, 16.0, 20 / 4 * 52 / 180)


def test_batch_width_follows_what_all_requests_accept():
    four = [[1.0] * 8] * 4
    got = choose_batch_width(four, POLICY)
    assert got.width == 8 and got.expected_accepted == 32.0
    assert got.predicted_speedup == pytest.approx(9 * 52 / (40 + 4 * 35))
    assert choose_batch_width([], POLICY) == PLAIN
