"""Scheduling decisions are pure functions of a snapshot: exact expected orders and admissions."""
import pytest

from agentrt.server.scheduler import (Admission, BgPolicy, ReqClass, ReqView, Snapshot,
                                      admit_background, order_waiting, shadow_price)

FG, BG, PR = ReqClass.FOREGROUND, ReqClass.BACKGROUND, ReqClass.PROMOTED
SNAP = Snapshot(now_s=100.0, kv_used=1000, kv_total=10000, fg_waiting=0, bg_running=0)


def test_promoted_then_foreground_then_background_by_age():
    reqs = [ReqView(0, BG, 90.0), ReqView(1, FG, 95.0), ReqView(2, BG, 80.0),
            ReqView(3, PR, 99.0), ReqView(4, FG, 91.0)]
    assert order_waiting(reqs, SNAP, BgPolicy()) == [3, 4, 1, 2, 0]


def test_starving_background_is_aged_into_foreground():
    reqs = [ReqView(0, FG, 99.0), ReqView(1, BG, 60.0)]          # waited 40 s > 30 s
    assert order_waiting(reqs, SNAP, BgPolicy()) == [1, 0]
    assert order_waiting(reqs, SNAP, BgPolicy(starvation_s=50)) == [0, 1]


def test_continuum_pinned_programs_first_then_program_fcfs():
    reqs = [ReqView(0, FG, 99.0, "a", 10.0), ReqView(1, FG, 98.0, "b", 50.0, pinned=True),
            ReqView(2, FG, 97.0, "c", 5.0), ReqView(3, FG, 96.0, "a", 10.0)]
    assert order_waiting(reqs, SNAP, BgPolicy(program_policy="continuum")) == [1, 2, 3, 0]


def test_agentsched_blends_sjf_and_cache_preservation():
    small_cold = ReqView(0, FG, 1.0, uncached_tokens=200, cached_tokens=0)
    big_warm = ReqView(1, FG, 2.0, uncached_tokens=600, cached_tokens=5000)
    low = Snapshot(100.0, kv_used=500, kv_total=10000, fg_waiting=2, bg_running=0)
    high = Snapshot(100.0, kv_used=8000, kv_total=10000, fg_waiting=2, bg_running=0)
    policy = BgPolicy(program_policy="agentsched")
    assert order_waiting([small_cold, big_warm], low, policy) == [0, 1]    # SJF
    assert order_waiting([small_cold, big_warm], high, policy) == [1, 0]   # keep the cache
    assert shadow_price(0, 100) == 0 and shadow_price(50, 100) == 0.5
    assert shadow_price(90, 100) == 1.0 and shadow_price(100, 100) == 1.0


@pytest.mark.parametrize("snap, expected", [
    (SNAP, Admission(True, 512, "admitted")),
    (SNAP._replace(bg_running=2), Admission(False, 0, "2 background requests in flight")),
    (SNAP._replace(kv_used=8600), Admission(False, 0, "KV usage 0.86 >= 0.85")),
    (SNAP._replace(kv_used=8980), Admission(False, 0, "KV usage 0.90 >= 0.85")),
    (SNAP._replace(fg_waiting=1), Admission(True, 256, "admitted")),
    (SNAP._replace(fg_waiting=3), Admission(True, 128, "admitted")),
    (SNAP._replace(fg_waiting=8), Admission(True, 64, "admitted")),
])
def test_background_admission(snap, expected):
    assert admit_background(snap, BgPolicy()) == expected


def test_admission_keeps_reserve_and_tracks_step_time():
    tight = Snapshot(0.0, kv_used=8400, kv_total=10000, fg_waiting=0, bg_running=0)
    assert admit_background(tight, BgPolicy(deny_usage=0.9)) == Admission(True, 512, "admitted")
    tighter = tight._replace(kv_used=8950)
    assert admit_background(tighter, BgPolicy(deny_usage=0.95)).reason == \
        "KV reserve for foreground"
    slow = SNAP._replace(last_step_ms=200.0)
    assert admit_background(slow, BgPolicy(tbt_slo_ms=50)) == Admission(True, 128, "admitted")
    assert admit_background(SNAP, BgPolicy(max_in_flight=0)).admit is False


def test_policy_validation():
    with pytest.raises(ValueError):
        BgPolicy(deny_usage=0)
    with pytest.raises(ValueError):
        BgPolicy(program_policy="random")
    with pytest.raises(ValueError):
        BgPolicy(chunk_tokens=10, min_chunk_tokens=64)
