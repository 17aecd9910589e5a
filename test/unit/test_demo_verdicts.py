"""The demo's target lines: each target's measured value and verdict (fake turns)."""
from types import SimpleNamespace as N

from agentrt.demo.__main__ import verdicts

COMMIT = N(waited_s=0.0)


def turn(index, ttft_s, commit=None):
    return N(index=index, commit=commit, result=N(ttft_s=ttft_s))


def test_verdicts_compare_commit_and_ordinary_turns_of_both_runs():
    sync = [turn(1, 3.0), turn(2, 1.0), turn(3, 1.2), turn(4, 2.8, COMMIT), turn(5, 1.1)]
    la = [turn(1, 3.0), turn(2, 1.3), turn(3, 1.4), turn(4, 0.7, COMMIT), turn(5, 1.1)]
    lines = verdicts([sync], la)
    assert lines[0] == "ordinary turns: median TTFT 1300 ms with lookahead, 1100 ms without"
    assert lines[1:] == [
        "target MISSED ordinary median on / off = 1.18 (target <= 1.15)",
        "target met    commit turn 4 / ordinary median = 0.54 (target <= 1.2)",
        "target MISSED commit turn 4 synchronous / lookahead = 4.0x (target >= 5x)"]


def test_without_a_commit_nothing_is_checked():
    runs = [turn(1, 3.0), turn(2, 1.0)]
    assert verdicts([runs], runs) == ["targets: not checked (the run needs ordinary turns and a "
                                    "commit)"]


def test_the_baseline_is_each_turns_mean_over_the_synchronous_runs():
    before = [turn(1, 3.0), turn(2, 1.0), turn(3, 1.2), turn(4, 3.0, COMMIT), turn(5, 1.0)]
    after = [turn(1, 3.0), turn(2, 1.4), turn(3, 1.6), turn(4, 4.0, COMMIT), turn(5, 1.4)]
    la = [turn(1, 3.0), turn(2, 1.3), turn(3, 1.4), turn(4, 0.7, COMMIT), turn(5, 1.1)]
    lines = verdicts([before, after], la)
    assert lines[0] == "ordinary turns: median TTFT 1300 ms with lookahead, 1200 ms without"
    assert lines[1:] == [
        "target met    ordinary median on / off = 1.08 (target <= 1.15)",
        "target met    commit turn 4 / ordinary median = 0.54 (target <= 1.2)",
        "target met    commit turn 4 synchronous / lookahead = 5.0x (target >= 5x)"]


def test_a_turn_that_commits_in_any_run_is_not_an_ordinary_turn():
    sync = [turn(1, 3.0), turn(2, 1.0), turn(3, 2.5, COMMIT), turn(4, 1.0)]
    la = [turn(1, 3.0), turn(2, 1.0), turn(3, 9.0), turn(4, 0.5, COMMIT)]   # a turn later
    lines = verdicts([sync], la)
    assert lines[0] == "ordinary turns: median TTFT 1000 ms with lookahead, 1000 ms without"
