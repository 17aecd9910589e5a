"""benchmark/editing: turn kinds and the per-system summary, on hand-made turns (no server)."""
from benchmark.editing.history import history_at
from benchmark.editing.replay import render_targets, summarize, targets
from benchmark.editing.turns import classify
from benchmark.agent_replay.workload import AgentTrace, Step

EDIT_A = [{"type": "clear_tool_uses_20250919", "cleared_tool_uses": 2,
           "cleared_input_tokens": 90}]
EDIT_B = [{"type": "clear_tool_uses_20250919", "cleared_tool_uses": 3,
           "cleared_input_tokens": 140}]


def turn(ttft, prompt, cached, edits=()):
    return {"ttft_ms": ttft, "prompt": prompt, "cached": cached, "applied_edits": list(edits)}


def test_kinds_cold_then_edit_only_when_the_report_changes():
    turns = classify([turn(50, 100, 0), turn(10, 150, 100), turn(40, 120, 30, EDIT_A),
                      turn(12, 170, 120, EDIT_A), turn(45, 160, 40, EDIT_B),
                      turn(11, 200, 160, EDIT_B)])
    assert [t["kind"] for t in turns] == ["cold", "ordinary", "edit", "ordinary", "edit",
                                          "ordinary"]


def test_summary_medians_and_ratios():
    turns = classify([turn(50, 100, 0), turn(10, 150, 100), turn(40, 120, 30, EDIT_A),
                      turn(12, 170, 120, EDIT_A), turn(44, 160, 40, EDIT_B),
                      turn(14, 200, 160, EDIT_B)])
    got = summarize(turns)
    assert got == {"turns": 6, "edit_turns": 2, "prepared_edit_turns": 0,
                   "ordinary_ttft_p50_ms": 12,
                   "edit_ttft_p50_ms": 40, "edit_over_ordinary": 3.33,
                   "ordinary_uncached_p50": 50, "edit_uncached_p50": 90,
                   "hit_rate": round(450 / 900, 3), "prompt_tokens": 900}


def test_history_is_the_full_unedited_openai_history():
    trace = AgentTrace("a", "sys", "task", (Step("look", "out 1", 0.1), Step("more", "out 2", 0.1)))
    assert history_at(trace, 0) == [{"role": "system", "content": "sys"},
                                    {"role": "user", "content": "task"}]
    two = history_at(trace, 2)
    assert [m["role"] for m in two] == ["system", "user", "assistant", "tool", "assistant", "tool"]
    assert two[4]["tool_calls"][0]["id"] == two[5]["tool_call_id"] == "call_1"
    assert (two[4]["content"], two[5]["content"]) == ("more", "out 2")
    assert history_at(trace, 1) == two[:4]


def test_targets_compare_lookahead_with_its_ordinary_turns_and_the_synchronous_edit():
    sync = summarize(classify([turn(50, 100, 0), turn(10, 150, 100), turn(60, 120, 0, EDIT_A)]))
    ahead = summarize(classify([turn(50, 100, 0), turn(10, 150, 100),
                                dict(turn(12, 130, 110, EDIT_A), prepared=True)]))
    plain = classify([turn(50, 100, 0), turn(10, 150, 100), turn(15, 170, 150)])
    records = [{"system": "unedited", "turns_detail": _detail(plain)},
               {"system": "server_edit", **sync, "turns_detail": _detail(
                   classify([turn(50, 100, 0), turn(10, 150, 100), turn(60, 120, 0, EDIT_A)]))},
               {"system": "server_lookahead", **ahead, "turns_detail": _detail(
                   classify([turn(50, 100, 0), turn(10, 150, 100),
                             dict(turn(12, 130, 110, EDIT_A), prepared=True)]))}]
    got = targets(records)
    assert got == {"edit_over_ordinary": 1.2, "sync_over_lookahead_ttft": 5.0,
                   "sync_over_lookahead_prefill": 6.0, "prepared_edit_turns": "1 of 1",
                   "lookahead_over_unedited_same_turn": 0.8,
                   "sync_over_unedited_same_turn": 4.0, "sync_over_lookahead_same_turn": 5.0}
    assert "(target <= 1.2)" in render_targets(got)
    assert targets(records[:2]) is None and render_targets(None) == ""


def test_targets_compare_the_sdk_replay_with_the_client_side_runtime():
    sdk = classify([turn(50, 100, 0), turn(10, 150, 100),
                    dict(turn(12, 130, 110, EDIT_A), prepared=True)])
    client = [dict(turn(48, 100, 0), kind="cold"), dict(turn(11, 150, 100), kind="ordinary"),
              dict(turn(10, 130, 105), kind="edit", outcome="ready", prepared=True)]
    records = [{"system": "server_lookahead", **summarize(sdk), "turns_detail": _detail(sdk)},
               {"system": "client_lookahead", **summarize(client),
                "turns_detail": _detail(client)}]
    got = targets(records)
    assert got == {"sdk_over_client_ttft": 1.2, "sdk_edit_ttft_p50_ms": 12,
                   "client_commit_ttft_p50_ms": 10, "sdk_over_client_prefill": 0.8,
                   "sdk_edit_prefill_p50": 20, "client_commit_prefill_p50": 25,
                   "sdk_over_client_same_turn": 1.2, "commits_at_sdk_edit_turns": "1 of 1"}
    text = render_targets(got)
    assert "server / client (target <= 1.2)" in text and "Targets (server_lookahead)" not in text
    assert targets(records[:1]) is None


def _detail(turns):
    return [dict(t, agent="a", step=i) for i, t in enumerate(turns)]
