"""The benchmark's synthetic workload is deterministic and shaped as documented."""
from benchmark.agent_replay.run import pct, summarize
from benchmark.agent_replay.workload import miniagent


def test_trace_is_deterministic_and_shaped():
    a, b = miniagent("a", 3, steps=20), miniagent("a", 3, steps=20)
    assert a == b and a != miniagent("a", 4, steps=20)
    words = [len(s.tool_output.split()) for s in a.steps]
    assert words[8] == words[17] == 550 and words[0] == 37          # steps 9 and 18 are big
    assert all(len(s.assistant.split()) == 100 for s in a.steps)
    assert all(0 <= s.tool_s <= 3.0 for s in a.steps)


def test_summary_separates_commit_and_ordinary_turns():
    turns = [{"commit": False, "outcome": None, "ttft_s": 9.0, "prompt": 10, "cached": 0},
             {"commit": False, "outcome": None, "ttft_s": 1.0, "prompt": 10, "cached": 5},
             {"commit": True, "outcome": "ready", "ttft_s": 0.2, "prompt": 10, "cached": 9}]
    out = summarize(turns, [5.0])
    assert out["commit_ttft_p50_ms"] == 200.0 and out["ordinary_ttft_p50_ms"] == 1000.0
    assert out["commit_outcomes"] == {"ready": 1} and out["prefix_hit_rate"] == round(14 / 30, 3)
    assert pct([], 0.5) is None and pct([1.0, 2.0, 3.0], 0.99) == 3000.0
