"""The commit floor (benchmark/agent_replay/floor.py): what a commit would cost as the ordinary
turns of the same run most like it."""
from benchmark.agent_replay.floor import commit_floor_ms
from benchmark.agent_replay.targets import regime_verdicts


def turn(kind, ttft_ms, prompt, new):
    return {"kind": kind, "ttft_ms": ttft_ms, "prompt": prompt, "cached": prompt - new}


ORDINARY = [turn("ordinary", 500.0, 1000, 40), turn("ordinary", 600.0, 1100, 40),
            turn("ordinary", 700.0, 1000, 50), turn("ordinary", 4000.0, 3600, 650),
            turn("ordinary", 5000.0, 3500, 660), turn("ordinary", 6000.0, 3700, 640)]


def test_floor_is_the_median_of_the_most_alike_ordinary_turns():
    small = turn("commit", 9000.0, 1050, 45)        # near the three 40-50-token turns at ~1k
    big = turn("commit", 9000.0, 3600, 800)         # near the three 650-token turns at ~3.6k
    assert commit_floor_ms(ORDINARY + [small]) == 600.0
    assert commit_floor_ms(ORDINARY + [big]) == 5000.0
    # the median over commits, upper middle
    assert commit_floor_ms(ORDINARY + [small, big]) == 5000.0


def test_floor_needs_commits_and_ordinary_turns_with_counts():
    assert commit_floor_ms(ORDINARY) is None
    assert commit_floor_ms([turn("commit", 1.0, 100, 10)]) is None
    assert commit_floor_ms([{"kind": "commit", "ttft_ms": 1.0}] + ORDINARY) is None


def test_idle_verdicts_show_the_floor_as_bound():
    turns = ORDINARY + [turn("commit", 6000.0, 3600, 800)]
    base = {"ordinary_ttft_p99_ms": 900.0, "tbt_p99_ms": 80.0, "jct_mean_s": 100.0}
    records = [{**base, "system": "vanilla", "commit_ttft_p50_ms": 20000.0,
                "ordinary_ttft_p50_ms": 2000.0},
               {**base, "system": "agentrt", "commit_ttft_p50_ms": 6000.0,
                "ordinary_ttft_p50_ms": 1000.0, "turns": turns}]
    v = {x.target: x for x in regime_verdicts("idle", records)}
    ratio = v["agentrt commit / ordinary TTFT p50"]
    assert ratio.measured == "6.0x" and ratio.verdict == "missed"
    assert ratio.bound == "commits at their floor (ordinary turns as large): 5.0x"
    assert v["commit TTFT p50 vanilla / agentrt"].bound == \
        "a commit costing an ordinary turn: 20.0x; at its floor: 4.0x"
