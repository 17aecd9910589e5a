"""Real-trace workloads: parsing the exact record formats, scaling caps, and the real wheels."""
import json
import statistics
import zipfile

import pytest

from benchmark.agent_replay.traces import (
    bfcl,
    durations,
    fetch,
    load_workload,
    nemo_gym,
)
from benchmark.agent_replay.traces.bfcl_backend import call
from benchmark.agent_replay.traces.scaling import (
    MARKER,
    Caps,
    RawStep,
    fit_agent,
    truncate,
)
from benchmark.agent_replay.traces.stats import context_tokens, trace_stats
from benchmark.agent_replay.traces.tokens import approx_tokens


def words(text: str) -> int:
    return len(text.split())


# shortened from nemo_gym responses_api_agents/mini_swe_agent_2/data/example_rollouts.jsonl
MINI_SWE = {
    "responses_create_params": {"input": [
        {"type": "message", "role": "system", "content": "You are a helpful assistant."},
        {"type": "message", "role": "user", "content": "<pr_description>Add joblib</pr_description>"},
    ], "tools": [], "temperature": 0.6},
    "response": {"id": "resp_1", "output": [
        {"id": "msg_1", "role": "assistant", "status": "completed", "type": "message",
         "content": [{"annotations": [], "text": "<think>find it</think>", "type": "output_text"}]},
        {"arguments": "{\"command\": \"grep -rl show_versions .\"}", "call_id": "c1",
         "name": "bash", "type": "function_call", "id": "c1", "status": None},
        {"arguments": "{\"command\": \"ls\"}", "call_id": "c2", "name": "bash",
         "type": "function_call", "id": "c2", "status": None},
        {"call_id": "c1", "output": "<returncode>0</returncode>\n<output>a.py</output>",
         "type": "function_call_output", "id": None, "status": None},
        {"call_id": "c2", "output": "", "type": "function_call_output"},
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "edit a.py"}]},
        {"arguments": "{\"command\": \"sed -i s/x/y/ a.py\"}", "call_id": "c3", "name": "bash",
         "type": "function_call"},
        {"call_id": "c3", "output": [{"type": "input_text", "text": "done"}],
         "type": "function_call_output"},
        {"id": "msg_2", "role": "assistant", "type": "message",
         "content": [{"text": "Submitted.", "type": "output_text"}]},
    ]},
    "reward": 1.0,
}


def test_nemo_gym_record_becomes_steps_of_reply_and_outputs():
    r = nemo_gym.parse_record(MINI_SWE, "f.jsonl#0")
    assert r.system == "You are a helpful assistant."
    assert r.task == "<pr_description>Add joblib</pr_description>"
    assert r.steps == (
        RawStep("<think>find it</think>\n[call bash] {\"command\": \"grep -rl show_versions .\"}"
                "\n[call bash] {\"command\": \"ls\"}",
                "<returncode>0</returncode>\n<output>a.py</output>\n(no output)"),
        RawStep("edit a.py\n[call bash] {\"command\": \"sed -i s/x/y/ a.py\"}", "done"),
    )                                   # the final answer "Submitted." has no output: dropped


def test_nemo_gym_user_turns_mid_rollout_are_observations_and_input_may_be_a_string():
    rec = {"responses_create_params": {"input": "book a flight"},
           "response": {"output": [
               {"type": "function_call", "name": "search", "arguments": "{}", "call_id": "a"},
               {"type": "function_call_output", "call_id": "a", "output": "2 flights"},
               {"type": "message", "role": "user", "content": "the cheaper one"},
               {"type": "function_call", "name": "book", "arguments": "{\"id\": 2}"},
               {"type": "function_call_output", "output": "booked"}]}}
    r = nemo_gym.parse_record(rec)
    assert r.system == nemo_gym.DEFAULT_SYSTEM and r.task == "book a flight"
    assert [s.observation for s in r.steps] == ["2 flights\n[user] the cheaper one", "booked"]


def test_nemo_gym_call_without_output_before_next_reply_rejects_the_rollout():
    rec = {"responses_create_params": {"input": [{"role": "user", "content": "go"}]},
           "response": {"output": [
               {"type": "function_call", "name": "a", "arguments": "{}"},
               {"type": "message", "role": "assistant", "content": "next"},
               {"type": "function_call", "name": "b", "arguments": "{}"},
               {"type": "function_call_output", "output": "ok"}]}}
    assert nemo_gym.parse_record(rec) is None
    assert nemo_gym.parse_record({"responses_create_params": {"input": "x"}}) is None


def test_truncate_keeps_the_longest_head_under_the_cap():
    text = " ".join(f"w{i}" for i in range(10))
    out, removed = truncate(text, 5, words)          # MARKER is 2 words: 3 words of text kept
    assert out == "w0 w1 w2" + MARKER and words(out) == 5 and removed == 7
    assert truncate(text, 10, words) == (text, 0)


def test_fit_agent_caps_texts_then_drops_the_steps_that_do_not_fit():
    caps = Caps(system_tokens=4, task_tokens=10, assistant_tokens=5, tool_tokens=4,
                agent_tokens=40, per_message_tokens=1, min_steps=1)
    steps = [RawStep("a " * 3, "o " * 9), RawStep("b " * 8, "p"), RawStep("c", "q " * 6),
             RawStep("d", "r")]
    f = fit_agent("s " * 6, "t t", steps, caps, words)
    # system 4 + task 2 + 2 msgs = 8; step0 3+4+2 = 9 (17); step1 5+1+2 = 8 (25);
    # step2 1+4+2 = 7 (32); step3 1+1+2 = 4 (36) fits
    assert [words(a) + words(o) for a, o in f.steps] == [7, 6, 5, 2] and f.tokens == 36
    assert f.dropped == 0
    assert f.steps[0][1] == "o o" + MARKER and f.system == "s s" + MARKER
    assert f.cuts == ("system: 4 of 6 tokens cut", "step 0 tool output: 7 of 9 tokens cut",
                      "step 1 assistant: 5 of 8 tokens cut",
                      "step 2 tool output: 4 of 6 tokens cut")
    g = fit_agent("s " * 6, "t t", steps, Caps(**{**caps.__dict__, "agent_tokens": 30}), words)
    assert len(g.steps) == 2 and g.tokens == 25 and g.dropped == 2
    assert g.cuts[-1] == "steps 2-3 of 4 dropped (agent cap 30 tokens)"
    assert not any(c.startswith("step 2 ") for c in g.cuts)


# shortened from bfcl_eval/data/BFCL_v4_multi_turn_long_context.json and its possible_answer
BFCL_Q = {"id": "multi_turn_long_context_0", "question": [
    [{"role": "user", "content": "Move 'final_report.pdf' to 'temp'."}],
    [{"role": "user", "content": "Grep 'budget analysis'."}],
    [{"role": "user", "content": "Sort it."}]],
    "initial_config": {"GorillaFileSystem": {"root": {"workspace": {"type": "directory",
                                                                    "contents": {}}}}},
    "path": ["GorillaFileSystem.mkdir", "GorillaFileSystem.mv", "GorillaFileSystem.grep"],
    "involved_classes": ["GorillaFileSystem"]}
BFCL_A = {"id": "multi_turn_long_context_0", "ground_truth": [
    ["mkdir(dir_name='temp')", "mv(source='final_report.pdf', destination='temp')"],
    [], ["sort('final_report.pdf')"]]}


def test_bfcl_task_becomes_one_step_per_call_with_later_user_turns_in_outputs():
    task = bfcl.parse_task(BFCL_Q, BFCL_A)
    assert task.turns == ("Move 'final_report.pdf' to 'temp'.", "Grep 'budget analysis'.",
                          "Sort it.")
    steps = bfcl.raw_steps(task, [["null", "moved"], [], ["sorted"]])
    assert steps == [RawStep("[call] mkdir(dir_name='temp')", "null"),
                     RawStep("[call] mv(source='final_report.pdf', destination='temp')",
                             "moved\n\n[user] Grep 'budget analysis'.\n\n[user] Sort it."),
                     RawStep("[call] sort('final_report.pdf')", "sorted")]
    docs = {n: {"name": n} for n in ("mkdir", "grep", "cat")}
    assert bfcl.system_prompt(task, docs) == (bfcl.SYSTEM + '{"name": "mkdir"}\n'
                                              '{"name": "grep"}')


def test_backend_call_parses_literals_only():
    class Api:
        def f(self, a, b=0):
            return {"sum": a + b}

        def g(self):
            return 7

    api = {"f": Api(), "g": Api()}
    assert call(api, "f(1, b=2)") == '{"sum": 3}' and call(api, " g() ") == "7"
    with pytest.raises(ValueError, match="no backend"):
        call(api, "__import__('os')")
    with pytest.raises(ValueError):
        call(api, "f(g())")                            # not a literal: never evaluated


def test_tool_durations_are_seeded_clipped_and_follow_the_published_mean():
    a = durations.draw(7, 50, durations.SWE_BENCH, 3.0)
    assert a == durations.draw(7, 50, durations.SWE_BENCH, 3.0) and max(a) <= 3.0
    many = durations.draw(1, 40000, durations.BFCL, 1e9)
    assert abs(statistics.mean(many) - 1.923) < 0.1
    assert abs(statistics.stdev(many) - 2.133) < 0.3


def test_corrupt_cached_wheel_is_an_error(tmp_path):
    root = tmp_path / "traces"
    root.mkdir()
    (root / fetch.WHEELS["bfcl"].filename).write_bytes(b"not a wheel")
    with pytest.raises(fetch.TraceFetchError, match="expected 3bb6dfa5"):
        fetch.cached_wheel("bfcl", str(tmp_path))
    assert fetch.cached_wheel("nemo_gym", str(tmp_path)) is None


def test_unreachable_index_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    with pytest.raises(fetch.TraceFetchError, match="could not download bfcl-eval==2026.3.23"):
        fetch.fetch_wheel("bfcl", str(tmp_path), timeout_s=60)
    assert not (tmp_path / "traces" / fetch.WHEELS["bfcl"].filename).exists()


def test_miniagent_through_the_common_entry_is_the_synthetic_trace():
    from benchmark.agent_replay.workload import miniagent

    got = load_workload("miniagent", 2, 3, steps=5)
    assert got == [miniagent("agent-0", 300, steps=5), miniagent("agent-1", 301, steps=5)]
    assert [t.step_limit for t in got] == [5, 5]     # the job ends at its step limit
    with pytest.raises(KeyError, match="known: miniagent, nemo_gym, bfcl"):
        load_workload("swe", 1, 0)


def _wheel_or_skip(name):
    try:
        return fetch.fetch_wheel(name)
    except fetch.TraceFetchError as exc:   # only when not cached and the index is unreachable
        pytest.skip(f"{name} wheel not cached and not downloadable: {exc}")


@pytest.mark.parametrize("name", ["nemo_gym", "bfcl"])
def test_real_traces_fit_the_caps_and_keep_real_text(name):
    wheel = _wheel_or_skip(name)
    caps = Caps(tool_tokens=500, agent_tokens=6000)
    traces = load_workload(name, 3, 0, count_tokens=approx_tokens, caps=caps, min_tokens=2500)
    assert traces == load_workload(name, 3, 0, count_tokens=approx_tokens, caps=caps,
                                   min_tokens=2500)
    assert len({t.source for t in traces}) == 3
    for t in traces:
        assert 2500 <= context_tokens(t, approx_tokens) <= 6000 and len(t.steps) >= 3
        assert all(approx_tokens(s.tool_output) <= 500 and 0 < s.tool_s <= 3.0
                   for s in t.steps)
    stats = trace_stats(traces, approx_tokens)
    assert stats["agents"] == 3 and stats["tool_output_tokens_max"] <= 500
    if name == "nemo_gym":
        file, line = traces[0].source.split(":", 1)[1].split("#")
        with zipfile.ZipFile(wheel) as zf:
            record = json.loads(zf.read(file).decode().splitlines()[int(line)])
        raw = nemo_gym.parse_record(record)
        # a rollout cut short ends at a step limit its agent is told; a whole one at none
        assert traces[0].step_limit == (len(traces[0].steps)
                                        if len(traces[0].steps) < len(raw.steps) else None)
        first = traces[0].steps[0]
        assert first.assistant.removesuffix(MARKER) in raw.steps[0].assistant
        assert first.tool_output.removesuffix(MARKER) in raw.steps[0].observation
    else:
        tasks, _ = bfcl.read_tasks(wheel)
        assert len(tasks) == 200
        out = bfcl.run_backends(wheel, tasks)["multi_turn_long_context_0"]
        assert out[0][0] == '{"current_working_directory": "document"}'   # the real backend
        assert sum(len(o) for turn in out for o in turn) > 10000          # long-context mode



def test_a_servers_job_history_holds_the_workloads_other_jobs_at_their_last_call():
    """traces/population.py: every nemo-gym rollout but the run's own, each measured at its
    last model call (what follows it cannot bring a commit); synthetic traces get none."""
    from benchmark.agent_replay.traces.population import last_call_context, other_job_lengths

    from benchmark.agent_replay.traces import DEFAULT_CAPS

    wheel = _wheel_or_skip("nemo_gym")
    caps = DEFAULT_CAPS["nemo_gym"]
    run = load_workload("nemo_gym", 2, 0, count_tokens=approx_tokens)
    everyone = [t for t in (nemo_gym.to_trace(r, "a", 0, caps, approx_tokens)
                            for r in nemo_gym.iter_rollouts(wheel)
                            if len(r.steps) >= caps.min_steps) if t is not None]

    def count(messages):
        return sum(approx_tokens(m["content"]) for m in messages)

    others = other_job_lengths("nemo_gym", run, approx_tokens, count)
    assert len(others) == len(everyone) - 2
    assert sorted(others) == sorted(count(last_call_context(t)) for t in everyone
                                    if t.source not in {r.source for r in run})
    last = last_call_context(run[0])
    assert len(last) == 2 + 2 * (len(run[0].steps) - 1)
    assert last[-1]["content"] == run[0].steps[-2].tool_output
    assert other_job_lengths("miniagent", run, approx_tokens, count) is None


def test_a_bfcl_servers_job_history_holds_every_other_task_it_could_pick():
    """BFCL's population: every long-context task with at least ``min_steps`` calls, the run's
    own left out, each at its last model call."""
    from benchmark.agent_replay.traces.population import last_call_context, other_job_lengths

    from benchmark.agent_replay.traces import DEFAULT_CAPS

    wheel = _wheel_or_skip("bfcl")
    caps = DEFAULT_CAPS["bfcl"]
    tasks, docs = bfcl.read_tasks(wheel)
    outputs = bfcl.run_backends(wheel, tasks)
    run = load_workload("bfcl", 2, 0, count_tokens=approx_tokens)
    own = {t.source for t in run}
    everyone = [bfcl.to_trace(t, outputs[t.id], docs, "a", 0, caps, approx_tokens)
                for t in tasks if sum(len(c) for c in t.calls) >= caps.min_steps]
    everyone = [t for t in everyone if t is not None]

    def count(messages):
        return sum(approx_tokens(m["content"]) for m in messages)

    others = other_job_lengths("bfcl", run, approx_tokens, count)
    assert len(own) == 2 and own <= {t.source for t in everyone}
    assert sorted(others) == sorted(count(last_call_context(t)) for t in everyone
                                    if t.source not in own)
    assert len(others) == len(everyone) - 2 > 100
