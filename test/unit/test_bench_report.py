"""Benchmark report: the markdown table carries the records' numbers; the figure is a real PNG."""
import io

from benchmark.agent_replay.progress import turn_bar
from benchmark.agent_replay.report import (
    latest_per_system,
    summary_rows,
    turn_records,
    write_report,
)

VANILLA = {"system": "vanilla", "workload": "bfcl", "n_agents": 2, "commit_ttft_p50_ms": 3000.0,
           "commit_ttft_p99_ms": 3400.4, "ordinary_ttft_p50_ms": 1200.0,
           "ordinary_ttft_p99_ms": 2500.0, "jct_mean_s": 40.0, "commits": 2,
           "commit_outcomes": {"sync": 2}, "prefix_hit_rate": 0.8}
AGENTRT = {"system": "agentrt", "workload": "bfcl", "n_agents": 2, "commit_ttft_p50_ms": 750.0,
           "commit_ttft_p99_ms": 1100.0, "ordinary_ttft_p50_ms": 600.0,
           "ordinary_ttft_p99_ms": 900.0, "jct_mean_s": 32.0, "commits": 3,
           "commit_outcomes": {"ready": 2, "promoted": 1}, "prefix_hit_rate": 0.875,
           "background_tokens": 5120,
           "turns": [{"agent": "agent-0", "step": 0, "kind": "ordinary", "ttft_ms": 900.0},
                     {"agent": "agent-0", "step": 1, "kind": "commit", "ttft_ms": 750.0,
                      "outcome": "ready"},
                     {"agent": "agent-1", "step": 0, "kind": "ordinary", "ttft_ms": 650.0}]}


def test_rows_hold_the_numbers_and_ratios_against_vanilla():
    rows = summary_rows([VANILLA, AGENTRT])
    assert rows[0] == ["vanilla", "3000", "3400", "1200", "2500", "40.00", "—", "0.800",
                       "2 (0/0/2)", "1.00x", "1.00x"]
    assert rows[1] == ["agentrt", "750", "1100", "600", "900", "32.00", "5120", "0.875",
                       "3 (2/1/0)", "4.00x", "1.25x"]
    no_base = summary_rows([AGENTRT])
    assert no_base[0][-2:] == ["—", "—"]


def test_report_writes_table_and_png(tmp_path):
    old = {**VANILLA, "jct_mean_s": 99.0}
    png, md = write_report([old, {**VANILLA, "workload": "nemo_gym"}, VANILLA, AGENTRT], "bfcl",
                           tmp_path, trace_stats={"agents": 2})
    assert png == tmp_path / "bfcl_ttft.png" and md == tmp_path / "bfcl.md"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    text = md.read_text()
    assert "| vanilla " in text and "| 40.00 " in text and "99.00" not in text   # latest only
    assert "| 4.00x " in text and "| 3 (2/1/0) " in text and "![TTFT per turn](bfcl_ttft.png)" in text
    assert "agents 2" in text and text.index("| vanilla") < text.index("| agentrt")


def test_latest_per_system_and_turn_records():
    a1, a2 = {**AGENTRT, "jct_mean_s": 1.0}, {**AGENTRT, "jct_mean_s": 2.0}
    assert [r["jct_mean_s"] for r in latest_per_system([a1, VANILLA, a2])] == [2.0, 40.0]
    assert latest_per_system([a1], "miniagent") == []
    turns = [{"agent": "a", "step": 3, "commit": True, "outcome": "promoted", "ttft_s": 1.23456,
              "prompt": 10, "cached": 2, "sent_s": 12.3456, "gaps_s": [0.01234, 0.5]},
             {"agent": "a", "step": 4, "commit": False, "outcome": None, "ttft_s": 0.5}]
    assert turn_records(turns) == [
        {"agent": "a", "step": 3, "kind": "commit", "ttft_ms": 1234.6, "outcome": "promoted",
         "prompt": 10, "cached": 2, "sent_s": 12.35, "gaps_ms": [12.3, 500.0]},
        {"agent": "a", "step": 4, "kind": "ordinary", "ttft_ms": 500.0, "outcome": None,
         "prompt": None, "cached": None}]


def test_progress_bar_counts_turns_on_the_given_stream():
    out = io.StringIO()
    with turn_bar("agentrt", total=5, file=out) as bar:
        bar.update(3)
    assert "agentrt: 3/5 turns" in out.getvalue() and "elapsed" in out.getvalue()


def test_targets_and_the_bound_the_run_sets():
    from benchmark.agent_replay.targets import check_targets

    def rec(system, commit, ordinary, jct):
        return {"system": system, "commit_ttft_p50_ms": commit, "ordinary_ttft_p50_ms": ordinary,
                "jct_mean_s": jct}
    lines = check_targets([rec("vanilla", 16000.0, 7000.0, 300.0),
                           rec("ttl_only", 8000.0, 2000.0, 150.0),
                           rec("agentrt", 4000.0, 2000.0, 160.0)])
    assert lines == [
        "commit TTFT p50 vanilla / agentrt: 4.0x (target >= 15.0x: missed; a commit costing an "
        "ordinary turn of this run would give 8.0x)",
        "agentrt commit / ordinary TTFT p50: 2.0x (target <= 1.2x: missed)",
        "JCT vanilla / agentrt: 1.88x (target >= 1.5x: met)",
        "JCT agentrt 160.0 s vs ttl_only 150.0 s (target: better: missed)"]
    assert check_targets([rec("agentrt", 1.0, 1.0, 1.0)]) == []
    no_commit = check_targets([rec("vanilla", None, 7000.0, 300.0),
                               rec("agentrt", None, 2000.0, 160.0)])
    assert no_commit[0].startswith("commit TTFT p50 vanilla / agentrt: — ") and \
        "no data" in no_commit[0]
