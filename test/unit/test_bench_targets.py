"""Step 10's target verdicts and the work (prefilled / background / wasted) of a record."""
from benchmark.agent_replay.regime_report import regime_markdown, regime_rows
from benchmark.agent_replay.targets import regime_verdicts, target_table
from benchmark.agent_replay.work import turn_prefilled, work_of

TURNS = [{"prompt": 1000, "cached": 0}, {"prompt": 1200, "cached": 900},
         {"prompt": 1300, "cached": 1400}]          # cached above prompt counts as 0


def rec(system, **kw):
    base = {"system": system, "commit_ttft_p50_ms": 3000.0, "ordinary_ttft_p50_ms": 400.0,
            "ordinary_ttft_p99_ms": 900.0, "tbt_p99_ms": 80.0, "jct_mean_s": 100.0,
            "commits_ready_share": 0.0, "turns": TURNS}
    return {**base, **kw}


def ledger(prepare, catch_up, fg, wasted):
    return {"ledger": {"prefilled": {"fg_new": fg, "fg_rewrite": 0, "fg_recompute": 0,
                                     "prepare": prepare, "catch_up": catch_up},
                       "wasted": {"stale": wasted}},
            "prefilled_tokens": fg + prepare + catch_up, "wasted_tokens": wasted}


def test_work_from_ledger_or_turns():
    assert turn_prefilled(TURNS) == 1300 and turn_prefilled([{"prompt": 5}]) is None
    plain = work_of(rec("vanilla"))
    assert plain == (1300, 0, 0, "turns")
    # two repeats combined: their turns concatenated, the work a mean per repeat
    assert work_of(rec("vanilla", turns=TURNS * 2, repeats=2)) == (1300, 0, 0, "turns")
    full = work_of(rec("agentrt", **ledger(800, 200, 5000, 40)))
    assert full == (6000, 1000, 40, "ledger")


def by_target(verdicts):
    return {v.target: v for v in verdicts}


def test_idle_verdicts_meet_and_miss():
    records = [rec("vanilla", commit_ttft_p50_ms=4000.0),
               rec("ttl_only", busy_s=50.0, wall_s=100.0, idle_s=50.0, tool_scale=8.0),
               rec("agentrt", commit_ttft_p50_ms=440.0, ordinary_ttft_p99_ms=1100.0,
                   tbt_p99_ms=None, commits_ready_share=0.95, lookahead_busy_s=10.0,
                   tool_scale=8.0, **ledger(1000, 0, 5000, 100))]
    v = by_target(regime_verdicts("idle", records))
    assert v["ttl_only busy share (setting)"].verdict == "met"
    assert v["ttl_only busy share (setting)"].bound == "tool scale 8.0"
    assert v["agentrt commit / ordinary TTFT p50"].verdict == "met"          # 1.1x
    assert v["commit TTFT p50 vanilla / agentrt"].measured == "9.09x"
    assert v["commit TTFT p50 vanilla / agentrt"].verdict == "missed"
    assert "10.0x" in v["commit TTFT p50 vanilla / agentrt"].bound           # 4000 / 400
    assert v["agentrt commits ready"].verdict == "met"
    assert v["ordinary TTFT p99 agentrt / ttl_only"].verdict == "missed"    # 1.22x
    assert v["TBT p99 agentrt / ttl_only"].verdict == "no data"
    assert v["agentrt wasted / background tokens"].verdict == "missed"      # 10 %
    # ttl_only's turns: 1,300 prefilled; agentrt's ledger: 6,000
    assert v["agentrt wasted / background tokens"].bound == \
        "100 of 1000 (ledger); prefilled beyond ttl_only: 4700"
    text = target_table(list(v.values()))
    assert "| missed " in text and "| met " in text
    # the ledger's waste events name what ended each wasted branch
    records[2]["waste_events"] = [
        {"waste": "not_committed", "tokens": 60, "why": "session closed"},
        {"waste": "superseded", "tokens": 30, "why": "superseded by b7"},
        {"waste": "not_committed", "tokens": 10, "why": "session closed"}]
    v = by_target(regime_verdicts("idle", records))
    assert v["agentrt wasted / background tokens"].bound == \
        "100 of 1000 (ledger): 70 session closed (2 branches), 30 superseded (1 branch); " \
        "waste before jobs ended: 0.03; prefilled beyond ttl_only: 4700"
    # a combined record: its events are every repeat's, its work their mean
    records[2]["repeats"] = 2
    records[2]["waste_events"] += [
        {"waste": "not_committed", "tokens": 70, "why": "session closed"},
        {"waste": "superseded", "tokens": 30, "why": "superseded by b9"}]
    v = by_target(regime_verdicts("idle", records))
    assert "waste before jobs ended: 0.03;" in v["agentrt wasted / background tokens"].bound


def test_the_tbt_verdict_says_what_held_agentrts_tail():
    records = [rec("ttl_only"), rec("agentrt", tbt_p99_ms=120.0,
                                    tbt_tail_causes={"foreground prefill": 4, "not traced": 1})]
    v = by_target(regime_verdicts("idle", records))["TBT p99 agentrt / ttl_only"]
    assert v.verdict == "missed" and v.measured == "1.5x"
    assert v.bound == "gaps at or above the p99: 4 foreground prefill, 1 not traced"
    records[1]["tbt_tail_causes"] = {}
    assert by_target(regime_verdicts("idle", records))["TBT p99 agentrt / ttl_only"].bound == ""


def test_saturated_and_memory_verdicts():
    t = rec("ttl_only", jct_mean_s=100.0, **ledger(0, 0, 10000, 0))
    a = rec("agentrt", jct_mean_s=102.0, **ledger(400, 100, 10000, 20))
    v = by_target(regime_verdicts("saturated", [t, a]))
    assert v["JCT agentrt / ttl_only"].verdict == "met"                       # 1.02x
    assert "model time" not in v["JCT agentrt / ttl_only"].bound              # no busy time
    v = by_target(regime_verdicts("saturated", [dict(t, busy_s=90.0, wall_s=100.0),
                                                dict(a, busy_s=99.75)]))
    # 9.0 ms of model time a token against 9.5 (10,000 and 10,500 tokens prefilled)
    assert v["JCT agentrt / ttl_only"].bound == \
        "ttl_only busy share 0.9; model time per prefilled token agentrt / ttl_only: 1.06x"
    v = by_target(regime_verdicts("saturated", [t, a]))
    assert v["prefilled tokens agentrt / ttl_only"].measured == "1.05x"
    assert v["prefilled tokens agentrt / ttl_only"].verdict == "met"
    assert v["agentrt wasted / background tokens"].verdict == "met"           # 4 %
    worse = rec("agentrt", jct_mean_s=104.0, **ledger(900, 0, 10000, 0))
    v = by_target(regime_verdicts("saturated", [t, worse]))
    assert v["JCT agentrt / ttl_only"].verdict == "missed"
    assert v["prefilled tokens agentrt / ttl_only"].verdict == "missed"
    k = rec("kernel_only", jct_mean_s=101.0)
    v = by_target(regime_verdicts("memory", [k, t, a]))
    assert v["JCT ttl_only / kernel_only"].verdict == "met"
    assert v["JCT agentrt / kernel_only"].verdict == "missed"                 # 102 > 101
    assert v["JCT agentrt / ttl_only"].verdict == "missed"
    v = by_target(regime_verdicts("memory", [t, a]))
    assert v["JCT ttl_only / kernel_only"].verdict == "no data"


def test_regime_rows_and_markdown():
    records = [rec("vanilla", commit_outcomes={"sync": 3}),
               rec("agentrt", busy_s=30.0, wall_s=60.0,
                   commit_outcomes={"ready": 1, "deferred": 2}, **ledger(300, 20, 900, 5))]
    rows = regime_rows(records)
    assert rows[0][6:] == ["1300*", "0", "0", "—", "sync 3", "—"]
    assert rows[1][6:] == ["1220", "320", "5", "0.5", "deferred 2, ready 1", "—"]
    md = regime_markdown(records, "saturated", "miniagent", "x.png", command="make bench")
    assert "regime saturated" in md and "make bench" in md and "deferred 2" in md
    assert "prefilled tokens agentrt / ttl_only" in md and "no data" in md


def test_latest_run_groups_one_runs_records():
    from benchmark.agent_replay.regime_report import latest_run

    def r(system, regime="idle", quick=True, jct=1.0):
        return {"system": system, "regime": regime, "workload": "miniagent", "quick": quick,
                "jct_mean_s": jct}
    records = [r("vanilla"), r("agentrt"), r("vanilla", jct=2.0), r("agentrt", regime="memory"),
               r("agentrt", jct=3.0), r("agentrt", quick=False), {"system": "vanilla"}]
    run = latest_run(records, "idle", "miniagent", quick=True)
    assert [(x["system"], x["jct_mean_s"]) for x in run] == [("vanilla", 2.0), ("agentrt", 3.0)]
    assert latest_run(records, "saturated", "miniagent", quick=True) == []
    # vanilla starts a run even when the run before never named it
    records = [r("ttl_only"), r("server_edit"), r("vanilla", jct=5.0), r("ttl_only", jct=6.0)]
    run = latest_run(records, "idle", "miniagent", quick=True)
    assert [(x["system"], x["jct_mean_s"]) for x in run] == [("vanilla", 5.0), ("ttl_only", 6.0)]


def test_latest_run_combines_a_tagged_runs_repeats():
    from benchmark.agent_replay.regime_report import latest_run

    def r(system, repeat, jct, run="B"):
        return {"system": system, "regime": "saturated", "workload": "bfcl", "quick": False,
                "run": run, "repeat": repeat, "jct_mean_s": jct}
    records = [r("agentrt", 0, 9.0, run="A"),
               r("ttl_only", 0, 50.0), r("ttl_only", 0, 10.0),     # calibration: the last counts
               r("agentrt", 0, 11.0), r("agentrt", 1, 13.0), r("ttl_only", 1, 14.0)]
    run = latest_run(records, "saturated", "bfcl", quick=False)
    assert [(x["system"], x["jct_mean_s"], x["jct_runs_s"]) for x in run] == [
        ("ttl_only", 12.0, [10.0, 14.0]), ("agentrt", 12.0, [11.0, 13.0])]


def test_ready_share_bound_counts_commits_whose_preparation_fit():
    from benchmark.agent_replay.targets import fit_note

    a = {"commit_records": [{"best_fit": 0.5}, {"best_fit": 1.4}, {"best_fit": None},
                            {"best_fit": 999.0}]}
    assert fit_note(a) == "commits whose preparation fit idle time: 1 of 4 (1 never checked)"
    a["commit_records"][2]["best_fit"] = 0.9
    assert fit_note(a) == "commits whose preparation fit idle time: 2 of 4"
    assert fit_note({"commit_records": [{"outcome": "ready"}]}) == "no fit data"
    # a commit not ready although its preparation was sent at its earliest, with less time
    # before the commit than its prefill needed (a ready one, or one with no lead, is not)
    a["commit_records"] += [
        {"outcome": "promoted", "best_fit": 0.4, "lead_s": 1.44, "need_s": 1.49},
        {"outcome": "ready", "best_fit": 0.4, "lead_s": 1.0, "need_s": 1.49},
        {"outcome": "promoted", "best_fit": 0.4, "lead_s": None, "need_s": None},
        {"outcome": "promoted", "best_fit": 0.4, "lead_s": 3.0, "need_s": 1.49}]
    assert fit_note(a) == "commits whose preparation fit idle time: 6 of 8; not ready, sent " \
        "at their earliest less than their prefill before the commit: 1"


def test_pooled_runs_combine_every_repeat_of_the_named_runs():
    from benchmark.agent_replay.regime_report import pooled_runs

    def r(system, run, repeat, jct, seed, gaps):
        return {"system": system, "regime": "idle", "workload": "nemo_gym", "quick": False,
                "run": run, "repeat": repeat, "seed": seed, "jct_mean_s": jct,
                "turns": [{"kind": "ordinary", "step": 1, "ttft_ms": 100.0, "gaps_ms": gaps}]}
    records = [r("ttl_only", "A", 0, 10.0, 0, [50.0] * 99 + [900.0]),
               r("ttl_only", "B", 0, 99.0, 1, [1.0]),                     # replayed: the last
               r("ttl_only", "B", 0, 20.0, 1, [50.0] * 100),
               r("ttl_only", "C", 0, 70.0, 2, [5000.0]),                  # not named
               r("agentrt", "A", 0, 9.0, 0, [60.0] * 100),
               r("agentrt", "B", 0, 19.0, 1, [60.0] * 100)]
    pooled = {x["system"]: x for x in pooled_runs(records, "idle", "nemo_gym", ["A", "B"])}
    t = pooled["ttl_only"]
    assert t["jct_runs_s"] == [10.0, 20.0] and t["jct_mean_s"] == 15.0
    assert t["seed"] == [0, 1] and t["run"] == ["A", "B"] and t["repeats"] == 2
    # percentiles over both runs' gaps pooled (200: the one 900 ms gap lies above the p99)
    assert t["tbt_p99_ms"] == 50.0 and pooled["agentrt"]["tbt_p99_ms"] == 60.0
    assert pooled_runs(records, "saturated", "nemo_gym", ["A"]) == []
