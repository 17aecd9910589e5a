"""stall_report.py: a replay's longest token gaps matched to the server's stalls."""
from benchmark.agent_replay.stall_report import gap_causes, gap_windows, tail_causes


def _record(stalls):
    turns = [{"agent": "agent-0", "step": 3, "first_s": 10.0, "gaps_ms": [50.0, 900.0, 50.0]},
             {"agent": "agent-1", "step": 5, "first_s": 20.0, "gaps_ms": [600.0]},
             {"agent": "agent-2", "step": 1, "first_s": 30.0, "gaps_ms": [400.0]},
             {"agent": "agent-3", "step": 1}]                     # an older row: no timing
    return {"began_unix": 1000.0, "turns": turns, "longest_stalls": stalls}


def test_gaps_are_placed_after_the_first_token_and_the_gaps_before_them():
    gaps = gap_windows(_record([])["turns"])
    assert [(g["agent"], g["ms"]) for g in gaps] == [
        ("agent-0", 50.0), ("agent-0", 900.0), ("agent-0", 50.0), ("agent-1", 600.0),
        ("agent-2", 400.0)]
    assert abs(gaps[1]["start_s"] - 10.05) < 1e-9 and abs(gaps[1]["end_s"] - 10.95) < 1e-9


BRANCH = {"ended_unix": 1010.94, "ms": 880.0, "prefill_tokens": 430, "branch_tokens": 430,
          "decoding": 2}
FOREGROUND = {"ended_unix": 1020.6, "ms": 590.0, "prefill_tokens": 600, "branch_tokens": 0,
              "decoding": 1}


def test_each_long_gap_is_matched_to_the_step_that_held_it():
    elsewhere = {"ended_unix": 1050.0, "ms": 400.0, "prefill_tokens": 300, "branch_tokens": 0,
                 "decoding": 1}
    lines = gap_causes(_record([FOREGROUND, elsewhere, BRANCH]), longest=3)
    assert lines == [
        "agent-0 step 3: 900 ms at 10.1 s: a 880 ms branch prefill step of 430 tokens "
        "(430 for branches; 2 decoding)",
        "agent-1 step 5: 600 ms at 20.0 s: a 590 ms foreground prefill step of 600 tokens "
        "(0 for branches; 1 decoding)",
        "agent-2 step 1: 400 ms at 30.0 s: not traced"]
    assert gap_causes({"turns": _record([])["turns"]}) == []     # no replay clock


def test_the_tail_at_or_above_a_p99_is_counted_by_what_held_it_over_every_repeat():
    """Each repeat's gaps are matched to its own stalls: the same turns on a second server
    whose long step was a foreground one count as foreground."""
    first = _record([FOREGROUND, BRANCH])
    second = _record([dict(BRANCH, branch_tokens=0)])
    assert tail_causes([first], 600.0) == {"branch prefill": 1, "foreground prefill": 1}
    assert tail_causes([first, second], 500.0) == {
        "branch prefill": 1, "foreground prefill": 2,
        "not traced": 1}                                  # second's 600 ms gap: no stall kept
    assert tail_causes([first, second], 950.0) == {}
    assert tail_causes([first], None) == {} and tail_causes([{"turns": []}], 1.0) == {}
