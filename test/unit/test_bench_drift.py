"""drift.py: ABBA order, combining a system's repeats, the machine speed probe; the idle
regime's calibration (regimes.calibrated_scale, tool_path_s)."""
from benchmark.agent_replay.drift import combine, machine_gflops, run_order
from benchmark.agent_replay.regimes import calibrated_scale, tool_path_s
from benchmark.agent_replay.workload import AgentTrace, Step


def test_run_order_alternates_so_each_systems_mean_start_is_the_same():
    names = ["ttl_only", "agentrt"]
    order = [n for r in range(4) for n in run_order(names, r)]
    assert order == ["ttl_only", "agentrt", "agentrt", "ttl_only"] * 2
    slots = {n: [i for i, x in enumerate(order) if x == n] for n in names}
    assert sum(slots["ttl_only"]) == sum(slots["agentrt"])


def test_combine_means_numbers_sums_nothing_and_concatenates_turns():
    a = {"system": "agentrt", "repeat": 0, "jct_mean_s": 10.0, "commits": 2, "quick": False,
         "commit_ttft_p50_ms": None, "start_offsets_s": [0.0, 1.5],
         "ledger": {"prefilled": {"prepare": 100}, "wasted": {"stale": 4}},
         "commit_outcomes": {"ready": 2}, "turns": [{"step": 0}]}
    b = {"system": "agentrt", "repeat": 1, "jct_mean_s": 14.0, "commits": 3, "quick": False,
         "commit_ttft_p50_ms": 900.0, "start_offsets_s": [0.0, 1.5],
         "ledger": {"prefilled": {"prepare": 300, "catch_up": 10}, "wasted": {"stale": 0}},
         "commit_outcomes": {"deferred": 3}, "turns": [{"step": 1}]}
    c = combine([a, b])
    assert c["jct_mean_s"] == 12.0 and c["jct_runs_s"] == [10.0, 14.0] and c["repeats"] == 2
    assert c["commits"] == 2.5 and c["commit_ttft_p50_ms"] == 900.0     # None: no data there
    assert c["ledger"] == {"prefilled": {"prepare": 200, "catch_up": 5}, "wasted": {"stale": 2}}
    assert c["commit_outcomes"] == {"ready": 1, "deferred": 1.5}
    assert c["turns"] == [{"step": 0}, {"step": 1}]
    assert c["start_offsets_s"] == [0.0, 1.5] and c["quick"] is False and "repeat" not in c
    assert combine([a]) == {**a, "tbt_tail_causes": {}}    # a single record as it is


def _turn(kind, step, ttft_ms, gaps_ms=None):
    turn = {"agent": "a", "step": step, "kind": kind, "ttft_ms": ttft_ms}
    return turn if gaps_ms is None else {**turn, "gaps_ms": gaps_ms}


def test_combine_pools_the_repeats_turns_for_percentiles_instead_of_averaging_them():
    # repeat a: one long gap among many short ones; repeat b: all short. The mean of the two
    # p99s (600 ms) is no quantile of anything; the pooled p99 is the gaps' own
    a = {"system": "agentrt", "tbt_p99_ms": 1000.0, "ordinary_ttft_p99_ms": 900.0,
         "turns": [_turn("ordinary", 0, 5000.0, [100.0] * 99 + [1000.0]),
                   _turn("ordinary", 1, 900.0, [100.0] * 100), _turn("commit", 2, 300.0, [])]}
    b = {"system": "agentrt", "tbt_p99_ms": 200.0, "ordinary_ttft_p99_ms": 500.0,
         "turns": [_turn("ordinary", 1, 500.0, [200.0] * 100),
                   _turn("commit", 2, 700.0, [200.0])]}
    c = combine([a, b])
    assert c["tbt_p99_ms"] == 200.0 and c["tbt_p50_ms"] == 100.0   # one of 301 gaps above
    assert c["ordinary_ttft_p99_ms"] == 900.0      # step 0 (cold) is no ordinary turn
    assert c["commit_ttft_p50_ms"] == 700.0        # upper middle of 300, 700
    assert c["repeat_percentiles"]["tbt_p99_ms"] == [1000.0, 200.0]
    # a repeat whose turns keep no gaps (an older row): TBT stays the mean, TTFT is pooled
    del b["turns"][0]["gaps_ms"]
    c = combine([a, b])
    assert c["tbt_p99_ms"] == 600.0 and "tbt_p99_ms" not in c["repeat_percentiles"]
    assert c["ordinary_ttft_p99_ms"] == 900.0


def test_machine_gflops_is_a_positive_rate():
    assert machine_gflops() > 0


def test_calibrated_scale_keeps_model_time_and_fills_the_rest_with_tools():
    # 100 s of wall, 64 s busy, 70 s of it tools at scale 20: at 50 % busy the wall is 128 s;
    # the 30 s of model time stay, the tools take 98 s: scale 20 x 98 / 70
    assert calibrated_scale(20.0, busy_s=64.0, wall_s=100.0, tool_s=70.0) == 28.0
    assert calibrated_scale(20.0, busy_s=20.0, wall_s=100.0, tool_s=70.0) == 2.86
    assert calibrated_scale(20.0, busy_s=10.0, wall_s=100.0, tool_s=70.0) == 2.0   # floor: 1/10
    assert calibrated_scale(20.0, busy_s=64.0, wall_s=100.0, tool_s=0.0) == 20.0


def test_tool_path_is_the_longest_agents_offset_and_tools_but_its_last():
    def trace(*tools):
        return AgentTrace("a", "sys", "task", tuple(Step("x", "y", t) for t in tools))
    assert tool_path_s([trace(1.0, 2.0, 9.0), trace(4.0, 4.0)], [0.0, 0.5]) == 4.5
