"""Live decode prompts: the longest whole-turn history within the budget, distinct prompts."""
import pytest

from benchmark.agent_replay.workload import AgentTrace, Step
from benchmark.decode import live_workloads as lw


def words(text: str) -> list[str]:
    return text.split()


TRACE = AgentTrace("a", "sys", "task", tuple(Step(f"reply{i} x x", f"out{i} y", 0.0)
                                             for i in range(4)))


def test_history_prompt_renders_whole_turns_then_opens_a_reply():
    text = lw.history_prompt(TRACE, 2)
    assert text.startswith("<|im_start|>system\nsys<|im_end|>\n<|im_start|>user\ntask<|im_end|>")
    assert "reply1 x x<|im_end|>\n<|im_start|>tool\nout1 y<|im_end|>" in text
    assert "reply2" not in text and text.endswith("<|im_start|>assistant\n")


def test_agent_turn_takes_the_longest_history_within_budget():
    sizes = [len(words(lw.history_prompt(TRACE, t))) for t in (1, 2, 3)]
    assert sizes[0] < sizes[1] < sizes[2]
    assert lw.agent_turn(TRACE, words, sizes[1]) == lw.history_prompt(TRACE, 2)
    assert lw.agent_turn(TRACE, words, sizes[2] + 100) == lw.history_prompt(TRACE, 3)
    assert lw.agent_turn(TRACE, words, sizes[0] - 1) is None      # not even one turn fits


def test_fixed_workloads_are_distinct_and_bounded():
    got = lw.build(["prose", "agent_edit"], 8, seed=0, budget=0)
    assert all(len(set(v)) == 8 for v in got.values())
    with pytest.raises(ValueError, match="prose has 8 prompts"):
        lw.build(["prose"], 9, seed=0, budget=0)
