import math

import pytest

from agentrt.radix.ttl import ToolDurationStats, TtlConfig, TtlDecision


def _stats(**kw):
    return ToolDurationStats(TtlConfig(**kw))


def _feed(stats, tool, durations):
    for d in durations:
        stats.observe(tool, d)


def test_config_defaults():
    c = TtlConfig()
    assert (c.default_ttl_s, c.min_samples, c.max_ttl_s, c.window) == (2.0, 100, 60.0, 1000)


def test_default_before_min_samples():
    s = _stats(min_samples=10, window=10)
    _feed(s, "grep", [1.0] * 9)
    assert s.samples("grep") == 9
    assert s.cdf("grep", 5.0) is None
    assert s.choose_ttl("grep", 100.0) == TtlDecision(2.0, "default", 0.0)


def test_default_clipped_to_max_ttl():
    s = _stats(default_ttl_s=5.0, max_ttl_s=3.0)
    assert s.choose_ttl("x", 1.0) == TtlDecision(3.0, "default", 0.0)


def test_global_fallback_when_tool_cold():
    s = _stats(min_samples=4, window=4)
    _feed(s, "a", [1.0, 1.0, 1.0, 3.0])
    s.observe("b", 50.0)
    # global window (size 4) now holds [1, 1, 3, 50]
    assert s.samples("b") == 1
    assert s.cdf("b", 1.0) == 0.5
    d = s.choose_ttl("b", 10.0)
    # scores: 0 -> 0, 1 -> 0.5*10-1 = 4, 3 -> 0.75*10-3 = 4.5, 50 -> 10-50
    assert d.source == "global"
    assert d.ttl_s == 3.0
    assert d.expected_benefit_s == pytest.approx(4.5)


def test_tool_specific_when_warm():
    s = _stats(min_samples=3, window=10)
    _feed(s, "slow", [20.0, 20.0, 20.0, 20.0])
    _feed(s, "fast", [0.5, 0.5, 0.5])
    d = s.choose_ttl("fast", 10.0)
    assert d == TtlDecision(0.5, "tool", pytest.approx(9.5))
    assert s.cdf("fast", 0.4) == 0.0
    assert s.cdf("fast", 0.5) == 1.0
    assert s.choose_ttl("slow", 100.0) == TtlDecision(20.0, "tool", pytest.approx(80.0))


def test_hand_computed_best_tau_is_a_sample():
    s = _stats()
    _feed(s, "t", [1.0] * 99 + [10.0])
    # tau 0 -> 0; tau 1 -> 0.99*10-1 = 8.9; tau 10 -> 1.0*10-10 = 0
    d = s.choose_ttl("t", 10.0)
    assert d.ttl_s == 1.0
    assert d.source == "tool"
    assert d.expected_benefit_s == pytest.approx(8.9)
    assert s.cdf("t", 1.0) == pytest.approx(0.99)
    assert s.cdf("t", 9.99) == pytest.approx(0.99)
    assert s.cdf("t", 10.0) == 1.0


def test_zero_tau_when_reload_cheap():
    s = _stats()
    _feed(s, "t", [1.0] * 99 + [10.0])
    # tau 1 -> 0.99*0.5-1 < 0, so pinning is not worth it
    assert s.choose_ttl("t", 0.5) == TtlDecision(0.0, "tool", 0.0)
    assert s.choose_ttl("t", 0.0) == TtlDecision(0.0, "tool", 0.0)


def test_zero_durations_count_at_tau_zero():
    s = _stats(min_samples=2, window=2)
    _feed(s, "t", [0.0, 0.0])
    assert s.choose_ttl("t", 3.0) == TtlDecision(0.0, "tool", 3.0)


def test_clipping_at_max_ttl():
    # uncapped: 1 -> 0.5*100-1 = 49, 8 -> 100-8 = 92, so 8 would win
    s_free = _stats(min_samples=4, window=4)
    _feed(s_free, "t", [1.0, 1.0, 8.0, 8.0])
    assert s_free.choose_ttl("t", 100.0).ttl_s == 8.0
    # capped at 5: candidate 8 clips to 5, F(5) = 0.5 -> 45 < 49, so 1 wins
    s_cap = _stats(min_samples=4, window=4, max_ttl_s=5.0)
    _feed(s_cap, "t", [1.0, 1.0, 8.0, 8.0])
    d = s_cap.choose_ttl("t", 100.0)
    assert d == TtlDecision(1.0, "tool", pytest.approx(49.0))
    assert d.ttl_s <= 5.0


def test_all_samples_above_cap_gives_zero():
    s = _stats(min_samples=3, window=3, max_ttl_s=60.0)
    _feed(s, "t", [100.0, 100.0, 100.0])
    d = s.choose_ttl("t", 1000.0)
    assert d == TtlDecision(0.0, "tool", 0.0)


def test_bounded_window_drops_oldest():
    s = _stats(min_samples=2, window=3)
    _feed(s, "t", [50.0, 50.0, 50.0])
    assert s.cdf("t", 1.0) == 0.0
    _feed(s, "t", [1.0, 1.0, 1.0])
    assert s.samples("t") == 3
    assert s.cdf("t", 1.0) == 1.0
    assert s.choose_ttl("t", 10.0) == TtlDecision(1.0, "tool", pytest.approx(9.0))


def test_global_window_bounded():
    s = _stats(min_samples=2, window=2)
    _feed(s, "a", [30.0, 30.0])
    s.observe("b", 1.0)
    s.observe("c", 1.0)
    # global holds only [1, 1]; "d" is cold and falls back to it
    assert s.cdf("d", 1.0) == 1.0
    assert s.choose_ttl("d", 5.0) == TtlDecision(1.0, "global", pytest.approx(4.0))


def test_tie_breaks_to_smaller_tau():
    s = _stats(min_samples=4, window=4)
    _feed(s, "t", [1.0, 1.0, 3.0, 3.0])
    # 0 -> 0; 1 -> 0.5*4-1 = 1; 3 -> 1.0*4-3 = 1 (exact tie)
    assert s.choose_ttl("t", 4.0) == TtlDecision(1.0, "tool", 1.0)
    # everything ties at 0 -> tau 0
    assert s.choose_ttl("t", 2.0) == TtlDecision(0.0, "tool", 0.0)


@pytest.mark.parametrize("bad", [-1.0, -1e-9, math.nan])
def test_observe_rejects_bad_duration(bad):
    s = _stats(min_samples=1, window=1)
    with pytest.raises(ValueError, match="duration_s"):
        s.observe("t", bad)
    assert s.samples("t") == 0
    assert s.cdf("t", 100.0) is None


def test_negative_reload_cost_rejected():
    s = _stats()
    with pytest.raises(ValueError, match="reload_cost_s"):
        s.choose_ttl("t", -0.1)


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"default_ttl_s": -1.0}, "default_ttl_s"),
        ({"max_ttl_s": -0.5}, "max_ttl_s"),
        ({"min_samples": 0}, "min_samples"),
        ({"min_samples": 10, "window": 5}, "window"),
    ],
)
def test_config_validation(kw, field):
    with pytest.raises(ValueError, match=field):
        TtlConfig(**kw)


def test_large_sample_set_is_fast_and_correct():
    s = _stats(min_samples=100, window=100_000)
    durations = [float(i % 1000) / 100.0 for i in range(100_000)]
    _feed(s, "t", durations)
    d = s.choose_ttl("t", 20.0)
    # uniform on {0, 0.01, ..., 9.99}: F(tau) = (100*tau + 1)/1000, so
    # score = 20*F(tau) - tau = tau + 0.02, increasing -> largest tau, 9.99
    assert d.ttl_s == pytest.approx(9.99)
    assert d.expected_benefit_s == pytest.approx(20.0 - 9.99)
