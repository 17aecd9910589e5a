"""The scheduler's step accounting: busy time, the branch-prefill share, the per-token estimate."""
import time

import pytest

from agentrt.server.metrics.latency import render
from agentrt.server.scheduling.stats import PER_TOKEN_MIN_TOKENS, SchedulerStats


def test_busy_time_and_lookahead_share_of_prefill_steps():
    stats = SchedulerStats()
    stats.step_finished(50.0)                                   # decode
    stats.step_finished(400.0, prefill_tokens=200, lookahead_tokens=50)
    stats.step_finished(100.0, prefill_tokens=64, lookahead_tokens=64)
    assert stats.busy_ms == 550.0
    assert stats.lookahead_busy_ms == pytest.approx(400.0 * 50 / 200 + 100.0)
    assert stats.lookahead_tokens == 114 and stats.decode_step_ms == 50.0
    out = stats.to_json()
    assert out["busy_s"] == 0.55 and out["lookahead_busy_s"] == 0.2
    assert out["lookahead_tokens_prefilled"] == 114
    text = render({"stats": out, "pinned_tokens": 0, "held_by_lookahead": 0})
    assert "agentrt_busy_seconds_total 0.55" in text
    assert "agentrt_lookahead_busy_seconds_total 0.2" in text
    assert "agentrt_decode_stalls_total 0" in text


def test_per_token_estimate_ignores_small_steps():
    stats = SchedulerStats()
    stats.step_finished(90.0, prefill_tokens=PER_TOKEN_MIN_TOKENS - 1)
    assert stats.prefill_ms_per_token == 0.0 and stats.last_step_prefill_only
    stats.step_finished(200.0, prefill_tokens=100)
    stats.step_finished(100.0, prefill_tokens=100)
    assert stats.prefill_ms_per_token == pytest.approx(0.8 * 2.0 + 0.2 * 1.0)


def test_foreground_share_leaves_out_branch_prefills_in_the_recent_window():
    stats = SchedulerStats()
    stats.started_at -= 30.0                                    # a full window of wall time
    stats.step_finished(3000.0, prefill_tokens=100)             # foreground prefill
    stats.step_finished(6000.0, prefill_tokens=100, lookahead_tokens=100)   # a branch's
    now = time.monotonic()
    assert stats.busy_share(now) == pytest.approx(0.3)
    assert stats.foreground_busy_share(now) == pytest.approx(0.1)
    assert stats.foreground_busy_share(now + 31.0) == 0.0       # both steps left the window


def test_foreground_share_over_a_shorter_lookback_sees_recent_load():
    stats = SchedulerStats()
    stats.started_at -= 30.0
    stats.step_finished(4000.0, prefill_tokens=100)             # the last 5 s: 4 s foreground
    now = time.monotonic()
    assert stats.foreground_busy_share(now, lookback_s=5.0) == pytest.approx(0.8)
    assert stats.foreground_busy_share(now) == pytest.approx(4 / 30)
    assert stats.foreground_busy_share(now + 6.0, lookback_s=5.0) == 0.0


def test_peak_foreground_share_finds_the_busiest_stretch_of_the_last_minutes():
    stats = SchedulerStats()
    stats.started_at -= 300.0
    stats.step_finished(10000.0, prefill_tokens=100)            # 10 s of foreground, just ended
    stats.step_finished(5000.0, prefill_tokens=100, lookahead_tokens=100)   # a branch's: not
    now = time.monotonic()                                                  # foreground
    assert stats.peak_foreground_share(10.0, now + 1.0) == pytest.approx(1.0, abs=0.11)
    assert stats.peak_foreground_share(20.0, now + 1.0) == pytest.approx(0.5, abs=0.06)
    # a minute later the recent share is quiet; the burst is still the peak
    assert stats.foreground_busy_share(now + 60.0, lookback_s=20.0) == 0.0
    assert stats.peak_foreground_share(20.0, now + 60.0) == pytest.approx(0.5, abs=0.06)
    assert stats.peak_foreground_share(20.0, now + 140.0) == 0.0   # past PEAK_HISTORY_S


def test_peak_foreground_share_right_after_start_is_over_what_has_run():
    stats = SchedulerStats()
    stats.started_at -= 4.0
    stats.step_finished(2000.0, prefill_tokens=100)
    share = stats.peak_foreground_share(30.0, time.monotonic())
    assert 0.3 < share <= 0.5 + 1e-9           # 2 s of 4-5 s of wall time, not of 30 s


def test_branch_prefill_cost_per_token_is_measured_on_branch_steps():
    stats = SchedulerStats()
    stats.step_finished(300.0, prefill_tokens=200)              # foreground: 1.5 ms / token
    assert stats.branch_ms_per_token == 0.0
    stats.step_finished(256.0, prefill_tokens=64, lookahead_tokens=64)     # 4 ms / token
    stats.step_finished(120.0, prefill_tokens=160, lookahead_tokens=40)    # 120 x 40/160 / 40
    assert stats.branch_ms_per_token == pytest.approx(0.8 * 4.0 + 0.2 * 0.75)


def test_lookback_follows_the_window_within_bounds():
    from agentrt.lookahead.capacity import lookback_s

    assert lookback_s(1.0) == 5.0 and lookback_s(12.0) == 12.0 and lookback_s(300.0) == 30.0


def test_prefill_steps_feed_the_cost_fit_and_decode_steps_cap_its_fixed_cost():
    stats = SchedulerStats()
    for start in (0, 1000, 3000, 5000):
        for tokens in (64, 256, 1024):
            stats.step_finished(200 + tokens * (1 + 0.001 * (start + tokens / 2)), tokens,
                                parts=((start, tokens),))
    stats.step_finished(250.0)                  # a decode step: no prefill step, no cap here
    fit = stats.to_json()["prefill_cost"]
    assert fit["steps"] == 12
    assert fit["fixed_ms"] == pytest.approx(200.0, rel=1e-4)
    assert fit["per_position_ms"] == pytest.approx(0.001, rel=1e-4)
    stats.step_finished(150.0)
    assert stats.to_json()["prefill_cost"]["fixed_ms"] == 150.0


def test_longest_stalls_keep_the_prefill_steps_decoding_requests_waited_on():
    stats = SchedulerStats()
    stats.step_finished(900.0, prefill_tokens=400)                       # nobody decoding
    stats.step_finished(50.0, decoding=3)                                # a decode step
    for ms in range(100, 2100, 100):                                     # 20 stalls
        stats.step_finished(float(ms), prefill_tokens=ms // 2, decoding=1)
    stats.step_finished(950.0, prefill_tokens=430, lookahead_tokens=430, decoding=2)
    stalls = stats.to_json()["longest_stalls"]
    assert len(stalls) == 16 and [s["ms"] for s in stalls][:3] == [2000.0, 1900.0, 1800.0]
    assert min(s["ms"] for s in stalls) == 600.0          # the 16 longest of 21 stalls
    assert stats.to_json()["stalls"] == 21 and stats.to_json()["stalled_s"] == 21.95
    branch = [s for s in stalls if s["branch_tokens"]]
    assert branch == [{"ended_unix": branch[0]["ended_unix"], "ms": 950.0,
                       "prefill_tokens": 430, "branch_tokens": 430, "decoding": 2}]
    assert abs(branch[0]["ended_unix"] - time.time()) < 60


def test_a_mixed_step_decoded_its_running_requests():
    stats = SchedulerStats()
    stats.step_finished(500.0, prefill_tokens=200, decoding=0, decoded=2)
    assert not stats.last_step_prefill_only            # no decode step owed after it
    assert stats.stalls.count == 1                     # their token waited for the step
    stats.step_finished(500.0, prefill_tokens=200, decoding=1)
    assert stats.last_step_prefill_only and stats.stalls.count == 2
