"""agent_replay's server_edit systems without a server: the SDK agent's messages, its trigger (the
server's edit fires at the turn agentrt's runtime commits), turn classification and records,
the streamed turn, the opt-in systems and the idle regime's server_edit verdict rows."""
import asyncio
import json

import httpx
import openai
import pytest

from agentrt.editing import EditContext, edit_messages, parse_context_management
from agentrt.server.editing.editor import ServerEditor
from benchmark.agent_replay import sdk_agent
from benchmark.agent_replay.regimes import SYSTEMS as REGIME_SYSTEMS
from benchmark.agent_replay.run import summarize
from benchmark.agent_replay.systems import DEFAULT, OPT_IN, SYSTEMS, with_pool
from benchmark.agent_replay.targets import regime_verdicts, server_edit_verdicts
from benchmark.agent_replay.workload import AgentTrace, Step
from benchmark.editing.history import history_at

SDK_CLIENT = openai.AsyncOpenAI      # the class itself (a test replaces the module's)
OVERHEAD = 7          # the fake chat template's tokens around each message


class CharTokenizer:
    def encode(self, text, add_special_tokens):
        return list(text)


def count_chars(text: str) -> int:
    return len(text)


async def count_template(messages: list[dict]) -> int:
    """A chat-template count: content characters plus a fixed overhead per message."""
    return sum(len(m["content"]) + OVERHEAD for m in messages)


def trace(steps: int = 12) -> AgentTrace:
    return AgentTrace("a", "sys", "task", tuple(Step(f"step {i}", f"out{i} " + "x" * 300, 0.0)
                                               for i in range(steps)))


def test_runtime_messages_are_the_history_without_tool_calls():
    agent = trace()
    for k in (0, 1, 4):
        plain, sdk = sdk_agent.runtime_messages(agent, k), history_at(agent, k)
        assert [(m["role"], m["content"]) for m in plain] == \
            [(m["role"], m["content"]) for m in sdk]
        assert not any("tool_calls" in m or "tool_call_id" in m for m in plain)


def test_input_count_is_the_servers(tmp_path):
    server = ServerEditor(lambda: CharTokenizer(), lambda: "http://127.0.0.1:9", str(tmp_path))
    for k in (0, 3, 7):
        messages = history_at(trace(), k)
        assert sdk_agent.input_count(messages, count_chars) == server.count_tokens(messages)


def test_server_trigger_is_the_hard_threshold_in_the_servers_unit():
    assert sdk_agent.server_trigger(1440, 1500, 1400) == 1440 - 100 - 1


def runtime_commit_turn(agent: AgentTrace, hard: int) -> int:
    return next(k for k in range(len(agent.steps))
                if asyncio.run(count_template(sdk_agent.runtime_messages(agent, k))) >= hard)


def server_edit_turns(agent: AgentTrace, cm: dict) -> list[int]:
    """The turns at which the server's edit engine (sticky, synchronous) fires anew, classified
    from its reports as the SDK agent classifies them."""
    config = parse_context_management(cm)
    ctx = EditContext(lambda messages: sdk_agent.input_count(messages, count_chars))
    state, previous, fired = None, None, []
    for k in range(len(agent.steps)):
        result = edit_messages(history_at(agent, k), config, state, fmt="openai", ctx=ctx)
        state = result.state
        if sdk_agent.fired_anew(result.applied_edits, previous):
            fired.append(k)
        previous = result.applied_edits
    return fired


@pytest.mark.parametrize("hard", [1000, 1700, 2600])
def test_the_edit_first_fires_at_the_runtimes_commit_turn(hard):
    agent = trace()
    trigger = asyncio.run(sdk_agent.agent_trigger(agent, hard, count_template, count_chars))
    fired = server_edit_turns(agent, sdk_agent.context_management(trigger, None))
    assert fired and fired[0] == runtime_commit_turn(agent, hard)


def test_a_trace_below_the_threshold_gets_a_trigger_that_never_fires():
    agent = trace(3)
    trigger = asyncio.run(sdk_agent.agent_trigger(agent, 10**6, count_template, count_chars))
    assert server_edit_turns(agent, sdk_agent.context_management(trigger, None)) == []


def test_context_management_field():
    cm = sdk_agent.context_management(1300, 0.75)
    (edit,) = cm["edits"]
    assert edit["type"] == "clear_tool_uses_20250919"
    assert edit["trigger"] == {"type": "input_tokens", "value": 1300}
    assert edit["keep"] == {"type": "tool_uses", "value": 2}
    assert "clear_at_least" not in edit
    assert cm["lookahead"] == {"fraction": 0.75}
    assert sdk_agent.context_management(1300, None)["lookahead"] is False
    parse_context_management(cm)                         # the server accepts it


def test_commit_turns_and_outcomes():
    edit = [{"type": "clear_tool_uses_20250919", "cleared_tool_uses": 3}]
    later = [{"type": "clear_tool_uses_20250919", "cleared_tool_uses": 5}]
    assert not sdk_agent.fired_anew([], None)
    assert sdk_agent.fired_anew(edit, [])
    assert not sdk_agent.fired_anew(edit, edit)          # sticky: an ordinary turn
    assert sdk_agent.fired_anew(later, edit)
    assert sdk_agent.outcome_of({"prepared": True, "prepared_tokens": 9}, True) == "prepared"
    assert sdk_agent.outcome_of({"prepared": False, "fallback": "stale"}, True) == "fallback"
    assert sdk_agent.outcome_of({"applied_edits": edit}, True) is None     # synchronous
    assert sdk_agent.outcome_of({"prepared": True}, False) is None


def sse(chunks: list[dict]) -> bytes:
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + \
        b"data: [DONE]\n\n"


def chunk(content=None, usage=None) -> dict:
    choices = [] if content is None else [
        {"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": None}]
    return {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": choices, "usage": usage}


def fake_client(reports: list[dict], seen: list[dict]) -> openai.AsyncOpenAI:
    """An SDK client whose server streams two tokens and reports ``reports`` in turn."""
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        body = sse([chunk(""), chunk("a"), chunk("b"),
                    chunk(usage={"prompt_tokens": 100, "completion_tokens": 2,
                                 "total_tokens": 102,
                                 "prompt_tokens_details": {"cached_tokens": 60}})])
        report = reports[min(len(seen), len(reports)) - 1]
        return httpx.Response(200, content=body, headers={
            "content-type": "text/event-stream",
            "x-agentrt-context-management": json.dumps(report)})
    return SDK_CLIENT(base_url="http://test/v1", api_key="none", max_retries=0,
                              http_client=httpx.AsyncClient(transport=httpx.MockTransport(handle)))


def test_stream_turn_reads_tokens_usage_and_the_report():
    seen = []
    report = {"applied_edits": [], "prepared": True}
    client = fake_client([report], seen)
    turn = asyncio.run(sdk_agent.stream_turn(client, [{"role": "user", "content": "hi"}],
                                             {"session_id": "s", "ignore_eos": True}, 8))
    assert (turn["prompt"], turn["cached"], turn["report"]) == (100, 60, report)
    assert turn["ttft_s"] > 0 and len(turn["gaps_s"]) == 1       # two content chunks
    assert seen[0]["session_id"] == "s" and seen[0]["stream"] is True
    assert seen[0]["stream_options"] == {"include_usage": True}


def test_run_agent_records_turns_in_the_replays_shape(monkeypatch):
    edit = [{"type": "clear_tool_uses_20250919", "cleared_tool_uses": 2}]
    reports = [{"applied_edits": []}, {"applied_edits": []},
               {"applied_edits": edit, "prepared": True, "prepared_tokens": 50},
               {"applied_edits": edit}]
    seen, turns = [], []
    monkeypatch.setattr(sdk_agent.openai, "AsyncOpenAI",
                        lambda **_: fake_client(reports, seen))
    agent = trace(4)
    cm = sdk_agent.context_management(900, 0.75)
    jct = asyncio.run(sdk_agent.run_agent("http://test", agent, cm, 8, turns.append))
    assert jct > 0
    assert [t["commit"] for t in turns] == [False, False, True, False]
    assert [t["outcome"] for t in turns] == [None, None, "prepared", None]
    assert set(turns[0]) == {"agent", "step", "commit", "outcome", "ttft_s", "gaps_s", "prompt",
                             "cached", "reason"}
    # every turn the full, unedited history, with context_management and the session only
    assert [len(b["messages"]) for b in seen] == [2, 4, 6, 8]
    assert seen[3]["messages"] == history_at(agent, 3)
    assert all(b["context_management"] == cm and b["session_id"] == "a" for b in seen)
    summary = summarize(turns, [jct], 0)
    assert summary["commits"] == 1 and summary["commit_outcomes"] == {"prepared": 1}


def test_server_edit_systems_are_opt_in():
    assert set(OPT_IN) == {"server_edit", "server_edit_sync"} <= set(SYSTEMS)
    assert not set(OPT_IN) & set(DEFAULT) and not set(OPT_IN) & set(REGIME_SYSTEMS)
    assert SYSTEMS["server_edit"].server_edit is True
    assert SYSTEMS["server_edit_sync"].server_edit is False
    assert SYSTEMS["agentrt"].server_edit is None
    assert not SYSTEMS["server_edit"].lookahead          # the client runs no agentrt code
    assert SYSTEMS["server_edit"].args == SYSTEMS["agentrt"].args     # the same server
    assert with_pool(SYSTEMS["server_edit"], 2700).server_edit is True


def rec(system: str, commit=None, ordinary=None, outcomes=None) -> dict:
    return {"system": system, "commit_ttft_p50_ms": commit, "ordinary_ttft_p50_ms": ordinary,
            "commits": sum((outcomes or {}).values()), "commit_outcomes": outcomes or {}}


def test_server_edit_verdict_rows():
    sync_rows = server_edit_verdicts({"vanilla": rec("vanilla", 9000.0, 800.0),
                                      "server_edit": rec("server_edit", 900.0, 800.0,
                                                         {"prepared": 2, "fallback": 1})})
    own, speed = sync_rows
    assert own.target == "server_edit commit / ordinary TTFT p50"
    assert (own.measured, own.verdict) == ("1.12x", "met")
    assert own.bound == "prepared 2 of 3 commits; commits at their floor (ordinary turns as " \
                        "large): —"                     # no turns in these records
    assert speed.target == "commit TTFT p50 vanilla / server_edit"
    assert (speed.measured, speed.verdict) == ("10.0x", "met")
    assert speed.bound == "a commit costing an ordinary turn: 11.25x; at its floor: —"
    # server_edit_sync, when it ran, is the synchronous baseline
    by = {"vanilla": rec("vanilla", 9000.0, 800.0),
          "server_edit_sync": rec("server_edit_sync", 4000.0, 800.0),
          "server_edit": rec("server_edit", 1000.0, 800.0, {"prepared": 1})}
    own, speed = server_edit_verdicts(by)
    assert speed.target == "commit TTFT p50 server_edit_sync / server_edit"
    assert (speed.measured, speed.verdict) == ("4.0x", "missed")
    assert (own.measured, own.verdict) == ("1.25x", "missed")
    # no commit turn: no data
    own, speed = server_edit_verdicts({"server_edit": rec("server_edit", None, 800.0)})
    assert own.verdict == speed.verdict == "no data"


def test_idle_regime_adds_the_rows_only_when_server_edit_ran():
    base = [rec("vanilla", 9000.0, 800.0), rec("agentrt", 1000.0, 800.0)]
    plain = [v.target for v in regime_verdicts("idle", base)]
    assert not any("server_edit" in t for t in plain)
    added = [v.target for v in regime_verdicts("idle", base + [rec("server_edit", 900.0, 800.0)])]
    assert added[:len(plain) - 1] == plain[:-1] and added[-1] == plain[-1]   # waste stays last
    assert [t for t in added if "server_edit" in t] == [
        "server_edit commit / ordinary TTFT p50", "commit TTFT p50 vanilla / server_edit"]
    saturated = regime_verdicts("saturated", base + [rec("server_edit", 900.0, 800.0)])
    assert not any("server_edit" in v.target for v in saturated)


class Bar:
    def __init__(self):
        self.n = 0

    def update(self, n):
        self.n += n


@pytest.mark.parametrize("name,lookahead", [("server_edit", {"fraction": 0.75}),
                                             ("server_edit_sync", False)])
def test_replay_runs_the_sdk_agent_for_server_edit_systems(monkeypatch, name, lookahead):
    from agentrt.lookahead.strategy import ContextBudget
    from benchmark.agent_replay.run import Replay

    seen = []
    monkeypatch.setattr(sdk_agent.openai, "AsyncOpenAI",
                        lambda **_: fake_client([{"applied_edits": []}], seen))
    budget, agent, bar = ContextBudget(2000), trace(5), Bar()     # soft 0.6, hard 0.8: 1600
    rep = Replay("http://test", SYSTEMS[name], budget, count_template, count_chars, 8, "/tmp",
                 bar)
    asyncio.run(rep.run([agent], [0.0]))
    trigger = asyncio.run(sdk_agent.agent_trigger(agent, 1600, count_template, count_chars))
    assert seen[0]["context_management"] == {
        "edits": [{"type": "clear_tool_uses_20250919",
                   "trigger": {"type": "input_tokens", "value": trigger},
                   "keep": {"type": "tool_uses", "value": 2}}], "lookahead": lookahead}
    assert len(rep.turns) == bar.n == 5 and rep.preparations == 0
