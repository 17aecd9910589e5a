"""The benchmark's synthetic workload is deterministic and shaped as documented."""
from benchmark.agent_replay.workload import miniagent


def test_trace_is_deterministic_and_shaped():
    a, b = miniagent("a", 3, steps=20), miniagent("a", 3, steps=20)
    assert a == b and a != miniagent("a", 4, steps=20)
    words = [len(s.tool_output.split()) for s in a.steps]
    assert words[8] == words[17] == 550 and words[0] == 37          # steps 9 and 18 are big
    assert all(len(s.assistant.split()) == 100 for s in a.steps)
    assert all(0 <= s.tool_s <= 3.0 for s in a.steps)
