"""benchmark/editing's client_lookahead (no server): its budget and strategy mirror the server's
``clear_tool_uses`` edit, it counts input tokens as the server does, so over a whole agent it
commits at the server edit's turns and leaves the server edit's context; its turns' kinds."""
import argparse
import asyncio
import copy
from types import SimpleNamespace

from agentrt.editing import EditContext, edit_messages, parse_context_management
from agentrt.editing.work import message_text
from agentrt.lookahead.records import CommitRecord, Outcome
from agentrt.lookahead.strategy import MainState
from agentrt.server.editing.editor import ServerEditor
from benchmark.agent_replay.workload import AgentTrace, Step
from benchmark.editing import client_side
from benchmark.editing.history import history_at
from benchmark.editing.replay import SYSTEMS, WITH_TOOL_TIME, clear_tool_uses, summarize, \
    system_config
from benchmark.editing.turns import classify

ARGS = argparse.Namespace(trigger=2000, soft=0.8, keep=2, clear_at_least=0, gen_tokens=8,
                          model_path=None)


class CharTokenizer:
    """One token per character."""

    def encode(self, text, add_special_tokens):
        return list(text)


def count_chars(text: str) -> int:
    return len(text)


def trace(steps: int = 13) -> AgentTrace:
    return AgentTrace("a", "sys", "task", tuple(Step(f"step {i}", f"out{i} " + "x" * 400, 0.1)
                                               for i in range(steps)))


def test_the_system_is_listed_prepares_in_tool_time_and_sends_no_context_management():
    assert client_side.NAME in SYSTEMS and client_side.NAME in WITH_TOOL_TIME
    assert system_config(client_side.NAME, ARGS) is None


def test_budget_and_strategy_mirror_the_server_edit():
    strategy = client_side.strategy(ARGS, count_chars)
    assert strategy.budget.hard_tokens == ARGS.trigger == 2000
    assert strategy.budget.soft_tokens == int(ARGS.soft * ARGS.trigger) == 1600
    assert strategy.keep_last == ARGS.keep
    assert client_side.describe(ARGS) == {"strategy": "clear_tool_results", "keep_last": 2,
                                          "hard_tokens": 2000, "soft_tokens": 1600}


def test_input_tokens_are_the_server_edits_count(tmp_path):
    server = ServerEditor(lambda: CharTokenizer(), lambda: "http://127.0.0.1:9", str(tmp_path))
    count = client_side.input_tokens(count_chars)
    for k in (0, 1, 5):
        messages = history_at(trace(), k)
        assert asyncio.run(count(messages)) == server.count_tokens(messages)


def server_turns(agent: AgentTrace) -> list[list[dict]]:
    """The prompt the server edit (sticky, lookahead off) gives each turn of ``agent``."""
    config = parse_context_management(clear_tool_uses(ARGS.trigger, ARGS.keep,
                                                      ARGS.clear_at_least))
    ctx = EditContext(lambda messages: sum(count_chars(message_text(m)) for m in messages))
    state, prompts = None, []
    for k in range(len(agent.steps)):
        result = edit_messages(history_at(agent, k), config, state, fmt="openai", ctx=ctx)
        state = result.state
        prompts.append(result.messages)
    return prompts


async def client_turns(agent: AgentTrace) -> list[list[dict]]:
    """The prompt each turn of ``agent`` sends with the strategy committed synchronously (what
    a prepared commit of this segment-local strategy also sends), the client keeping it."""
    strategy, count = client_side.strategy(ARGS, count_chars), client_side.input_tokens(count_chars)
    messages, prompts = history_at(agent, 0), []
    for k in range(len(agent.steps)):
        if strategy.should_commit(MainState(messages, await count(messages))):
            messages = (await strategy.apply(messages, {}, None)).messages
        prompts.append(messages)
        messages = messages + history_at(agent, k + 1)[len(history_at(agent, k)):]
    return prompts


def test_commits_at_the_server_edits_turns_leaving_the_same_prompt():
    agent = trace()
    server, client = server_turns(agent), asyncio.run(client_turns(agent))
    assert client == server
    changed = [k for k in range(1, len(server)) if server[k][:len(server[k - 1])]
               != server[k - 1]]
    assert changed == [5, 8, 10, 12]     # the trace crosses the trigger 4 times


class FakeServer:
    """agentrt's client API without a server: every branch is prepared at once, every model
    call answered; the prompts of the model calls are kept."""

    def __init__(self):
        self.sent = []

    def llm_call(self):
        return None

    async def tokenize(self, messages, add_generation_prompt=False, session_id=None):
        return [0] * len(messages)

    async def open_session(self, session_id, tokens=None):
        return {}

    async def prepare(self, session_id, messages, strategy, version, signature, **_):
        return {"id": f"b{version}", "outcome": "ready", "reason": "", "tokens": 1}

    async def append(self, session_id, branch, messages, wait=True, promote=False):
        return {"id": branch, "outcome": "ready", "reason": "", "tokens": 1}

    async def commit(self, session_id, branch):
        return {"background_tokens": 1}

    async def chat(self, messages, **_):
        self.sent.append(copy.deepcopy(messages))
        return reply(0.01, len(messages), 0)

    async def abandon(self, *_):
        pass

    mark_stale = promote = close_session = abandon

    async def close(self):
        pass


def test_the_replayed_agent_sends_the_server_edits_prompts_and_commits_prepared(monkeypatch):
    agent, server = trace(), FakeServer()
    monkeypatch.setattr(client_side, "AgentrtClient", lambda url: server)
    turns = asyncio.run(client_side.replay_agent("http://fake", agent, ARGS, count_chars, 0.0))
    assert server.sent == server_turns(agent)
    assert [t["step"] for t in turns if t["kind"] == "edit"] == [5, 8, 10, 12]
    assert all(t["prepared"] for t in turns if t["kind"] == "edit")


def reply(ttft_s: float, prompt: int, cached: int):
    return SimpleNamespace(ttft_s=ttft_s, prompt_tokens=prompt, cached_tokens=cached)


def test_turns_a_commit_is_an_edit_turn_its_wait_in_the_ttft():
    ready = CommitRecord(Outcome.READY, "clear_tool_results", 300, 0.05)
    sync = CommitRecord(Outcome.FALLBACK, "clear_tool_results", 0, 0.01)
    turns = [client_side.client_turn("a", 0, reply(0.5, 100, 0), None),
             client_side.client_turn("a", 1, reply(0.1, 150, 100), None),
             client_side.client_turn("a", 2, reply(0.2, 130, 110), ready),
             client_side.client_turn("a", 3, reply(0.6, 120, 0), sync)]
    assert [t["kind"] for t in turns] == ["cold", "ordinary", "edit", "edit"]
    assert turns[2] == {"agent": "a", "step": 2, "ttft_ms": 250.0, "prompt": 130, "cached": 110,
                        "kind": "edit", "outcome": "ready", "prepared": True}
    assert (turns[3]["outcome"], turns[3]["prepared"]) == ("fallback", False)
    got = summarize(turns)
    assert (got["edit_turns"], got["prepared_edit_turns"], got["edit_uncached_p50"]) == (2, 1, 20)


def test_sdk_and_client_turns_classify_alike():
    """A server turn whose report changed and a client commit turn are both edit turns."""
    edit = [{"type": "clear_tool_uses_20250919", "cleared_tool_uses": 2,
             "cleared_input_tokens": 90}]
    sdk = classify([{"applied_edits": []}, {"applied_edits": []}, {"applied_edits": edit},
                    {"applied_edits": edit}])
    client = [client_side.turn_kind(k, k == 2) for k in range(4)]
    assert [t["kind"] for t in sdk] == client
