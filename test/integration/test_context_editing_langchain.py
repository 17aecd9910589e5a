"""A real agent framework pointed at agentrt by base URL only: LangChain's ``ChatOpenAI`` (pinned
in requirements/test.txt) drives multi-turn tool-using conversations, ``context_management``
rides in its ``extra_body``, the edit report comes back in the response header LangChain
exposes (``include_response_headers``), cached tokens in its ``usage_metadata``.

The tiny test model writes garbage, so the agent's decisions are scripted: each turn the
model's real reply is kept as the assistant message's text and a scripted call of a real
LangChain tool is attached to it; the tool runs through LangChain (``tool.invoke``) and its
``ToolMessage`` joins the history. The full, unedited history is sent every turn.

Edit: clear tool results beyond the last one once more than 3 tool uses are in the prompt,
only when at least 3 results' worth of tokens can be freed (``clear_at_least``). So the edit
fires at 4 tool uses, then the cleared prefix is sticky (turns 5 and 6 hit the cache), and it
fires again at 7."""
import json

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

FILE_TEXT = "file list search result token cache prefix branch session " * 8
TURNS = 8
EDIT_TURNS = (4, 7)


@tool
def read_file(path: str) -> str:
    """Read one file of the repository."""
    return f"{path}: {FILE_TEXT}"


@tool
def stat_file(path: str) -> str:
    """Size of one file of the repository."""
    return f"{path}: 120 lines"


def clearing(result_tokens: int) -> dict:
    return {"edits": [{"type": "clear_tool_uses_20250919",
                       "trigger": {"type": "tool_uses", "value": 3},
                       "keep": {"type": "tool_uses", "value": 1},
                       "clear_at_least": {"type": "input_tokens",
                                          "value": int(2.5 * result_tokens)}}]}


def chat_model(url: str, extra_body: dict) -> ChatOpenAI:
    return ChatOpenAI(base_url=url + "/v1", api_key="unused", model="default", temperature=0,
                      max_tokens=3, include_response_headers=True, extra_body=extra_body)


class Turn:
    """What one model call reported."""

    def __init__(self, reply: AIMessage):
        header = reply.response_metadata["headers"]["x-agentrt-context-management"]
        self.applied = json.loads(header)["applied_edits"]
        self.prompt = reply.usage_metadata["input_tokens"]
        self.cached = reply.usage_metadata["input_token_details"]["cache_read"]


class ScriptedAgent:
    """A tool-calling loop over a LangChain chat model with the tool choice scripted."""

    def __init__(self, llm: ChatOpenAI, tool_to_call):
        self.llm, self.tool = llm.bind_tools([read_file, stat_file]), tool_to_call
        self.history = [SystemMessage("You review the repository code."),
                        HumanMessage("Please review the repository.")]

    def step(self, k: int) -> Turn:
        reply = self.llm.invoke(self.history)
        call = {"name": self.tool.name, "args": {"path": f"src/f{k}.py"}, "id": f"call_{k}",
                "type": "tool_call"}
        self.history.append(AIMessage(content=reply.content, tool_calls=[call]))
        self.history.append(self.tool.invoke(call))      # a ToolMessage
        return Turn(reply)


@pytest.fixture(scope="module")
def result_tokens(url) -> int:
    """Tokens one read_file result frees when cleared, as the server counts them."""
    probe = chat_model(url, {"session_id": "lc-probe", "context_management": {"edits": [
        {"type": "clear_tool_uses_20250919", "trigger": {"type": "tool_uses", "value": 1},
         "keep": {"type": "tool_uses", "value": 1}}]}})
    agent = ScriptedAgent(probe, read_file)
    agent.step(0), agent.step(1)
    return agent.step(2).applied[0]["cleared_input_tokens"]   # the first of two results


def test_langchain_agent_edits_are_sticky_and_cached(url, result_tokens):
    agent = ScriptedAgent(chat_model(url, {"session_id": "lc-a",
                                           "context_management": clearing(result_tokens)}),
                          read_file)
    turns = [agent.step(k) for k in range(TURNS)]
    cleared = [t.applied[0]["cleared_tool_uses"] if t.applied else 0 for t in turns]
    assert cleared == [0, 0, 0, 0, 3, 3, 3, 6]
    for k in EDIT_TURNS:          # the edit rewrote the prefix: shorter prompt, cache miss
        assert turns[k].prompt < turns[k - 1].prompt
        assert turns[k].cached < turns[k - 1].prompt - result_tokens
    for k in range(1, TURNS):     # every other turn extends the previous prompt: cached
        if k not in EDIT_TURNS:
            assert turns[k].cached >= turns[k - 1].prompt - 1, (k, turns[k].cached)


def test_langchain_conversations_never_see_each_others_edits(url, result_tokens):
    """Two agents interleaved, same configuration and leading messages: ``heavy`` (session id)
    reads big files and gets edited; ``light`` (no session id: keyed by its leading messages)
    only stats files, never frees enough to clear, and sees no edit on any turn."""
    config = {"context_management": clearing(result_tokens)}
    heavy = ScriptedAgent(chat_model(url, {"session_id": "lc-heavy", **config}), read_file)
    light = ScriptedAgent(chat_model(url, config), stat_file)
    heavy_turns, light_turns = [], []
    for k in range(6):
        heavy_turns.append(heavy.step(k))
        light_turns.append(light.step(k))
    assert [bool(t.applied) for t in heavy_turns] == [False] * 4 + [True] * 2
    assert all(t.applied == [] for t in light_turns)
    for k in range(1, 6):         # light's prompt only grows, each turn extending the last
        assert light_turns[k].prompt > light_turns[k - 1].prompt
        assert light_turns[k].cached >= light_turns[k - 1].prompt - 1
