"""The prefill step-cost fit the capacity check prices branches with (scheduling/prefill_cost.py)."""
import random

import pytest

from agentrt.server.scheduling.prefill_cost import MIN_STEPS, PrefillCost, PrefillCostModel

TRUE = PrefillCost(fixed_ms=200.0, per_token_ms=1.0, per_position_ms=0.0009)


def _observed(model: PrefillCostModel, shapes, noise: float = 0.0, seed: int = 0) -> None:
    rng = random.Random(seed)
    for start, tokens in shapes:
        ms = TRUE.step_ms([(start, tokens)]) * (1 + rng.uniform(-noise, noise))
        model.observe([(start, tokens)], ms)


SHAPES = [(p, n) for p in (0, 1000, 3000, 5000) for n in (64, 256, 1024)]


def test_the_fit_recovers_the_step_cost_of_clean_steps():
    model = PrefillCostModel()
    _observed(model, SHAPES)
    fit = model.fitted()
    assert fit.fixed_ms == pytest.approx(200.0, rel=1e-6)
    assert fit.per_token_ms == pytest.approx(1.0, rel=1e-6)
    assert fit.per_position_ms == pytest.approx(0.0009, rel=1e-6)


def test_a_branch_is_priced_chunk_by_chunk_at_its_positions():
    model = PrefillCostModel()
    _observed(model, SHAPES, noise=0.05)
    low = model.price_ms(0, 2048, 256)          # 8 chunks at positions 0..1,792
    high = model.price_ms(4000, 2048, 256)      # the same tokens after 4k of context
    exact = sum(TRUE.step_ms([(p, 256)]) for p in range(0, 2048, 256))
    assert low == pytest.approx(exact, rel=0.1)
    assert high > 1.5 * low                     # attention over the longer context
    assert model.price_ms(0, 2048, 64) > 1.3 * low    # four times the steps' fixed cost
    assert model.price_ms(0, 300, 256) == pytest.approx(
        TRUE.step_ms([(0, 256)]) + TRUE.step_ms([(256, 44)]), rel=0.1)   # a partial last chunk


def test_no_fit_until_enough_steps_of_different_shapes():
    model = PrefillCostModel()
    _observed(model, SHAPES[:MIN_STEPS - 1])
    assert model.fitted() is None and model.price_ms(0, 512, 256) is None
    alike = PrefillCostModel()
    _observed(alike, [(1000, 256)] * 20)        # one shape: nothing to tell the terms apart
    assert alike.fitted() is None


def test_coefficients_never_go_negative():
    model = PrefillCostModel()
    # steps that get cheaper further into the context would need a negative position term:
    # the fit drops it instead, and still prices by size
    for start, tokens in SHAPES:
        model.observe([(start, tokens)], 100 + tokens * (2.0 - 0.0002 * (start + tokens / 2)))
    fit = model.fitted()
    assert min(fit) >= 0.0 and fit.per_position_ms == 0.0 and fit.per_token_ms > 0
    assert model.price_ms(0, 512, 256) > model.price_ms(0, 256, 256) > 0


def test_a_batch_step_sums_its_requests_and_only_recent_steps_count():
    model = PrefillCostModel(keep=len(SHAPES))
    for _ in range(3):                          # an older machine, twice as slow: pushed out
        for start, tokens in SHAPES:
            model.observe([(start, tokens)], 2 * TRUE.step_ms([(start, tokens)]))
    _observed(model, SHAPES)
    assert model.fitted().per_token_ms == pytest.approx(1.0, rel=1e-6)
    model.observe([(0, 128), (3000, 128)], TRUE.step_ms([(0, 128), (3000, 128)]))
    assert model.fitted().fixed_ms == pytest.approx(200.0, rel=1e-6)
    model.observe([(0, 0)], 50.0)               # nothing prefilled: not a step to fit
    assert model.to_json()["steps"] == len(SHAPES)


def test_the_capacity_check_prices_a_branch_by_the_fit_else_by_the_observed_rate(monkeypatch):
    from agentrt.server.control import ops
    from agentrt.server.scheduling import hooks  # noqa: F401 - imported before STATS is patched
    from agentrt.server.scheduling.stats import SchedulerStats

    stats = SchedulerStats()   # (a module importing STATS under the patch would keep this one)
    monkeypatch.setattr("agentrt.server.scheduling.stats.STATS", stats)
    stats.step_finished(6000.0, prefill_tokens=1000)            # 6 ms / token, no fit yet
    assert ops.branch_ms_per_token(0, 2048) == pytest.approx(6.0)
    _observed(stats.prefill_cost, SHAPES)
    early = ops.branch_ms_per_token(0, 2048)
    chunk = 1000 // 6           # the chunk max_chunk_ms (1,000) allows at the observed rate
    assert early == pytest.approx(model_price(0, 2048, chunk) / 2048, rel=1e-6)
    assert early < 0.6 * ops.branch_ms_per_token(4000, 2048)


def model_price(start: int, tokens: int, chunk: int) -> float:
    return sum(TRUE.step_ms([(p, min(chunk, start + tokens - p))])
               for p in range(start, start + tokens, chunk))


def test_the_cheapest_recent_decode_step_caps_the_fixed_cost():
    slow_start = PrefillCost(fixed_ms=900.0, per_token_ms=1.0, per_position_ms=0.0009)
    shapes = [(start, 700 + 10 * (i % 3)) for i, start in enumerate(range(2500, 6500, 250))]
    uncapped, capped = PrefillCostModel(), PrefillCostModel()
    for model in (uncapped, capped):
        for start, tokens in shapes:
            model.observe([(start, tokens)], slow_start.step_ms([(start, tokens)]))
    for ms in (260.0, 230.0, 250.0):            # a step of one token each cost 230 ms at least
        capped.observe_decode(ms)
    assert uncapped.fitted().fixed_ms == pytest.approx(900.0, rel=1e-3)
    fit = capped.fitted()
    assert fit.fixed_ms == 230.0 and fit.per_token_ms > 1.0    # the rest moved to the tokens
    start, tokens = shapes[5]
    assert fit.step_ms([(start, tokens)]) == pytest.approx(
        slow_start.step_ms([(start, tokens)]), rel=0.05)       # still fits what it saw


def test_a_background_chunk_is_bounded_in_time_at_its_own_position(monkeypatch):
    """The scheduler hook prices a background request's next chunk where it is: deep in a long
    context its tokens cost more, so ``max_chunk_ms`` admits fewer of them."""
    from types import SimpleNamespace

    from agentrt.server.scheduling import hooks
    from agentrt.server.scheduling.policy import BgPolicy, Snapshot, time_bounded_chunk

    policy = BgPolicy(max_chunk_ms=500.0)
    snap = Snapshot(0.0, 0, 1000, 0, 0, prefill_ms_per_token=1.0)      # the average rate
    model = PrefillCostModel()
    monkeypatch.setattr(hooks.STATS, "prefill_cost", model)
    at_position = hooks.at_position
    assert at_position(snap, SimpleNamespace(prefix_len=6000), policy) == snap   # no fit yet
    _observed(model, SHAPES)
    assert model.ms_per_token_at(6000, 256) == pytest.approx(
        (TRUE.step_ms([(6000, 256)]) - TRUE.fixed_ms) / 256, rel=1e-6)   # the fixed part aside
    near, deep = (at_position(snap, SimpleNamespace(prefix_len=p), policy) for p in (0, 6000))
    assert time_bounded_chunk(policy, deep.prefill_ms_per_token) < \
        time_bounded_chunk(policy, near.prefill_ms_per_token)
    chunk = time_bounded_chunk(policy, deep.prefill_ms_per_token)
    assert TRUE.step_ms([(6000, chunk)]) - TRUE.fixed_ms <= 500 < TRUE.step_ms([(6000, 256)])


def test_tokens_within_a_step_time_inverts_the_step_cost():
    model = PrefillCostModel()
    assert model.tokens_within(0, 500.0) is None                 # no fit yet
    _observed(model, SHAPES)
    for start in (0, 2000, 5000):
        n = model.tokens_within(start, 500.0)
        assert TRUE.step_ms([(start, n)]) <= 500.0 < TRUE.step_ms([(start, n + 1)])
    assert model.tokens_within(5000, 500.0) < model.tokens_within(0, 500.0)  # deeper: fewer
    assert model.tokens_within(0, 150.0) == 0                    # the fixed cost alone is more
