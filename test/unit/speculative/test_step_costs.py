"""Step costs measured online: the fits, their prior, clipping, and the policy using them."""
import pytest

from agentrt.speculative.corpus import DrafterCorpus
from agentrt.speculative.policy import PLAIN, StepCost, WidthPolicy, choose_batch_width
from agentrt.speculative.step_costs import LineFit, StepCostMeter


def test_cost_model_keeps_the_prior_formula_and_adds_a_fixed_verify_part():
    prior = StepCost()
    for batch in (1, 2, 4):
        for width in range(0, 9):
            assert prior.batch_ms(batch, width) == 40 + 4 * (batch * (1 + width) - 1)
    cost = StepCost(80.0, 10.0, 20.0, 5.0)
    assert cost.batch_ms(1, 0) == 80.0 and cost.batch_ms(3, 0) == 100.0
    assert cost.batch_ms(3, 2) == 100.0 + 20.0 + 5.0 * 6
    assert cost.verify_ms(2) == 80.0 + 20.0 + 10.0


def test_line_fit_without_samples_is_the_prior_and_converges_to_the_data():
    fit = LineFit((40.0, 4.0), prior_weight=2.0, decay=1.0, slope_scale=1.0)
    assert fit.params() == pytest.approx((40.0, 4.0))
    for _ in range(500):
        for x in (0, 1, 3):
            fit.add(x, 70.0 + 9.0 * x)
    a, b = fit.params()
    assert a == pytest.approx(70.0, abs=0.5) and b == pytest.approx(9.0, abs=0.3)


def test_meter_learns_plain_and_verify_costs():
    meter = StepCostMeter(decay=0.99)
    for _ in range(300):
        for batch in (1, 4):
            meter.observe(batch, 0, 70.0 + 6.0 * (batch - 1))
            for width in (1, 3, 7):
                meter.observe(batch, width, 70.0 + 6.0 * (batch - 1) + 25.0 + 3.0 * batch * width)
    c = meter.cost()
    assert c.base_ms == pytest.approx(70.0, abs=1.0)
    assert c.per_token_ms == pytest.approx(6.0, abs=0.5)
    assert c.verify_fixed_ms == pytest.approx(25.0, abs=1.5)
    assert c.per_draft_ms == pytest.approx(3.0, abs=0.2)
    assert meter.steps == [600, 1800]
    assert "verify +" in meter.summary()


def test_a_stalled_step_is_clipped():
    meter = StepCostMeter()
    meter.observe(1, 0, 10_000.0)                       # another process held the cores
    assert meter.cost().base_ms <= 2 * 40.0


def test_verify_estimate_does_not_age_during_plain_steps():
    meter = StepCostMeter()
    for _ in range(50):
        meter.observe(1, 1, 40.0 + 30.0 + 4.0)          # verify steps cost 30 ms more
    fixed = meter.cost().verify_fixed_ms
    for _ in range(500):
        meter.observe(1, 0, 40.0)
    assert meter.cost().verify_fixed_ms == pytest.approx(fixed, abs=1.0)
    assert fixed > 25.0                                 # charged to the fixed part


def test_measured_verify_overhead_turns_a_marginal_draft_into_plain_decoding():
    policy = WidthPolicy()
    marginal = [[0.4]]                                  # 1.4 * 40 / 44 = 1.27x on the prior
    assert choose_batch_width(marginal, policy).width == 1
    slow = StepCost(70.0, 4.0, 30.0, 4.0)               # 1.4 * 70 / 104 = 0.94x
    assert choose_batch_width(marginal, policy, slow) == PLAIN
    assert choose_batch_width([[1.0] * 8], policy, slow).width == 8   # 9 * 70 / 132


def test_corpus_drafts_with_the_measured_costs():
    seq = [1, 2, 3, 4, 5, 6, 7, 8] * 4
    corpus = DrafterCorpus(9)
    *_, slots = corpus.batch_get_adaptive(["r"], [seq[-18:]], [len(seq)])
    assert slots > 1
    for _ in range(200):                                # verify steps cost 10x a plain step
        corpus.observe_step(1, 0, 40.0)
        corpus.observe_step(1, 8, 400.0)
    assert corpus.step_costs.cost().verify_ms(8) > 300.0
    *_, slots = corpus.batch_get_adaptive(["r"], [seq[-18:]], [len(seq)])
    assert slots == 1


def test_measured_costs_never_make_verifying_cheaper_than_the_prior():
    policy = WidthPolicy()
    marginal = [[0.3] * 8] + [[]] * 3                   # batch of 4, one weak draft
    assert choose_batch_width(marginal, policy) == PLAIN
    slow_plain = StepCost(400.0, 4.0, 0.0, 4.0)         # plain measured slow, verify unmeasured
    assert slow_plain.batch_ms(4, 8) / slow_plain.batch_ms(4, 0) < 1.4
    assert choose_batch_width(marginal, policy, slow_plain) == PLAIN
