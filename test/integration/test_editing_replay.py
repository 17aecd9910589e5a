"""The nemo-gym replay (benchmark/editing/replay.py), quick: 2 real agents x 6 turns on the tiny
model, ``openai`` SDK only, full histories every turn. Checks what the benchmark's numbers rest
on: the baseline is never edited, an edit turn rewrites the prefix (shorter prompt than the
baseline's same turn, cache miss), every other turn extends the previous prompt (cached), and
the results file gets one line per system. ``server_lookahead``'s trigger turns say whether they
were served from a prepared branch, and one that was has the branch in its cached tokens;
``client_lookahead`` (the client-side runtime) commits the same edit."""
import json

import pytest

from benchmark.agent_replay.traces import fetch
from benchmark.editing import replay

ARGS = ["--agents", "2", "--steps", "6", "--min-tokens", "1500", "--trigger", "1500",
        "--keep", "1", "--clear-at-least", "300", "--gen-tokens", "2", "--idle-factor", "2"]


@pytest.fixture(scope="module")
def records(url, tiny_model, tmp_path_factory):
    try:
        fetch.fetch_wheel("nemo_gym")
    except fetch.TraceFetchError as exc:   # only when not cached and the index is unreachable
        pytest.skip(f"nemo_gym wheel not cached and not downloadable: {exc}")
    out = tmp_path_factory.mktemp("editing")
    got = replay.main(ARGS + ["--url", url, "--model-path", str(tiny_model),   # its tokenizer
                              "--results-dir", str(out)])
    return got, out


def by_turn(record) -> dict:
    return {(t["agent"], t["step"]): t for t in record["turns_detail"]}


def test_replay_edits_then_hits_the_cache(records):
    (unedited, edited, _, _), _ = records
    assert (unedited["system"], edited["system"]) == ("unedited", "server_edit")
    base, turns = by_turn(unedited), by_turn(edited)
    assert base.keys() == turns.keys() and len(turns) == 12
    assert all(t["applied_edits"] == [] and t["kind"] != "edit" for t in base.values())
    edits = [key for key, t in turns.items() if t["kind"] == "edit"]
    assert edits and edited["edit_turns"] == len(edits)
    for (agent, step), turn in turns.items():
        if step == 0:
            continue
        previous = turns[(agent, step - 1)]["prompt"]
        if turn["kind"] == "edit":
            assert turn["prompt"] < base[(agent, step)]["prompt"]
            assert turn["cached"] < previous
        else:
            assert turn["cached"] >= previous - 1, (agent, step)
        assert base[(agent, step)]["cached"] >= base[(agent, step - 1)]["prompt"] - 1
    sticky = [t for t in turns.values() if t["kind"] == "ordinary" and t["applied_edits"]]
    assert sticky, "an ordinary turn after an edit keeps the edit (sticky) and hits the cache"
    assert edited["prompt_tokens"] < unedited["prompt_tokens"]


def test_lookahead_trigger_turns_report_the_preparation(records):
    (_, edited, ahead, _), _ = records
    assert ahead["edit_turns"] >= 1
    for turn in ahead["turns_detail"]:
        if turn["kind"] == "ordinary":
            assert "prepared" not in turn
        elif turn["kind"] == "cold":
            continue
        elif turn["prepared"]:
            assert turn["cached"] >= turn["prepared_tokens"] > 0
        else:
            assert turn["fallback"]
    assert all("prepared" not in t for t in edited["turns_detail"])


def test_the_client_side_runtime_commits_the_same_edit_with_the_same_agents(records):
    """``client_lookahead``: the same agents driven by the client-side runtime commit (edit
    turns, each saying whether it swapped to a prepared branch) and send an edited prompt from
    then on (not the unedited baseline's: on the tiny model a cleared stub may be longer than a
    short result, so the length may go either way)."""
    (unedited, _, _, client), _ = records
    assert client["system"] == "client_lookahead" and client["edit_turns"] >= 1
    base, turns = by_turn(unedited), by_turn(client)
    assert base.keys() == turns.keys()
    edits = sorted(key for key, t in turns.items() if t["kind"] == "edit")
    for agent, step in edits:
        assert "prepared" in turns[(agent, step)] and "outcome" in turns[(agent, step)]
        assert turns[(agent, step)]["prompt"] != base[(agent, step)]["prompt"], (agent, step)


def test_replay_writes_one_line_per_system_and_the_table(records):
    _, out = records
    lines = [json.loads(line) for line in (out / "editing.jsonl").read_text().splitlines()]
    assert [r["system"] for r in lines] == ["unedited", "server_edit", "server_lookahead",
                                            "client_lookahead"]
    assert all(r["workload"] == "nemo_gym" and r["agents"] == 2 for r in lines)
    assert lines[1]["context_management"]["edits"][0]["keep"] == {"type": "tool_uses",
                                                                   "value": 1}
    table = (out / "editing.md").read_text()
    assert "| server_edit " in table and "edit / ordinary" in table
    assert "| server_lookahead |" in table and "Targets (server_lookahead)" in table
