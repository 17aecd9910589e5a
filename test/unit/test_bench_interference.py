"""The interference benchmark's ratios and verdicts, and the replay summary, on fixed numbers."""
from benchmark.agent_replay.interference import interference_rows, summarize_pair, verdict
from benchmark.agent_replay.run import pct, stats_delta, summarize


def record(system, ttft, tbt, ready, n=2):
    return {"system": system, "n_agents": n, "ordinary_ttft_p99_ms": ttft, "tbt_p99_ms": tbt,
            "commits_ready_share": ready, "jct_mean_s": 10.0, "background_tokens": 500,
            "bg_preempted": 0, "lookahead_busy_s": 6.0, "idle_s": 4.0}


def test_ratios_and_verdict():
    pair = {"agentrt": record("agentrt", 1100.0, 60.0, 1.0),
            "agentrt_bg_off": record("agentrt_bg_off", 1000.0, 40.0, None)}
    assert summarize_pair(pair["agentrt"], pair["agentrt_bg_off"]) == {
        "n_agents": 2, "ttft_ratio": 1.1, "tbt_ratio": 1.5, "commits_ready_share": 1.0,
        "commits_used_share": None, "lookahead_vs_idle": 1.5}
    headers, rows = interference_rows([pair])
    assert rows[0][:4] == [2, 1100.0, 1000.0, 1.1] and len(headers) == len(rows[0])
    assert verdict([pair]) == ["N=2: TTFT ratio 1.1 (met), TBT ratio 1.5 (missed), "
                               "commits ready 1.0 (met); branch prefill took 1.5x the idle "
                               "time with lookahead off"]


def test_summary_separates_commit_ordinary_and_cold_turns():
    turns = [  # agent a: cold first turn, an ordinary turn, a ready commit
        {"agent": "a", "step": 0, "commit": False, "outcome": None, "ttft_s": 5.0,
         "gaps_s": [0.05], "prompt": 100, "cached": 0},
        {"agent": "a", "step": 1, "commit": False, "outcome": None, "ttft_s": 0.4,
         "gaps_s": [0.04, 0.06], "prompt": 200, "cached": 100},
        {"agent": "a", "step": 2, "commit": True, "outcome": "ready", "ttft_s": 0.5,
         "gaps_s": [], "prompt": 150, "cached": 150},
    ]
    s = summarize(turns, [12.0], preparations=3)
    assert s["ordinary_ttft_p50_ms"] == 400.0 and s["commit_ttft_p50_ms"] == 500.0
    assert s["tbt_p99_ms"] == 60.0 and s["commits"] == 1 and s["commits_ready_share"] == 1.0
    assert s["wasted_preparations"] == 2 and s["prefix_hit_rate"] == round(250 / 450, 3)
    assert s["commits_used_share"] == 1.0
    assert s["commit_uncached_tokens_p50"] == 0 and s["ordinary_uncached_tokens_p50"] == 100
    promoted = [dict(turns[2], outcome="promoted")]
    assert summarize(promoted, [1.0], 1)["commits_ready_share"] == 0.0
    assert pct([], 0.5) is None and pct([0.1, 0.2, 0.3], 0.99) == 300.0


def test_stats_delta_subtracts_warm_up_and_derives_idle_time():
    before = {"busy_s": 1.0, "lookahead_busy_s": 0.0, "lookahead_tokens_prefilled": 10,
              "bg_preempted": 0, "bg_throttled": 0, "bg_denied": 1}
    after = {"busy_s": 31.0, "lookahead_busy_s": 12.5, "lookahead_tokens_prefilled": 510,
             "bg_preempted": 2, "bg_throttled": 3, "bg_denied": 1}
    out = stats_delta(before, after, wall_s=40.0)
    assert out["busy_s"] == 30.0 and out["idle_s"] == 10.0 and out["lookahead_busy_s"] == 12.5
    assert out["background_tokens"] == 500 and out["bg_preempted"] == 2 and out["bg_denied"] == 0
    assert stats_delta({}, {}, 5.0) == {}       # plain SGLang: no agentrt counters
    assert stats_delta({}, {"busy_s": 9.0}, 5.0)["idle_s"] == 0.0
    warm_up = {"ended_unix": 1.0, "ms": 700.0, "prefill_tokens": 300, "branch_tokens": 0,
               "decoding": 1}
    replay = {**warm_up, "ended_unix": 9.0, "ms": 900.0}
    out = stats_delta({"longest_stalls": [warm_up]}, {"longest_stalls": [replay, warm_up]}, 5.0)
    assert out["longest_stalls"] == [replay]     # the replay's own stalls only


def test_stats_delta_reports_the_ledger_by_purpose_and_waste():
    before = {"busy_s": 0.0, "prefilled_fg_new": 100, "prefilled_prepare": 50,
              "wasted_superseded": 5}
    after = {"busy_s": 1.0, "prefilled_fg_new": 400, "prefilled_prepare": 250,
             "wasted_superseded": 25}
    out = stats_delta(before, after, wall_s=2.0)
    assert out["ledger"] == {"prefilled": {"fg_new": 300, "prepare": 200},
                             "wasted": {"superseded": 20}}
    assert out["prefilled_tokens"] == 500 and out["wasted_tokens"] == 20
