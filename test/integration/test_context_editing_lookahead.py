"""Server-side lookahead of ``context_management`` edits, through the official ``openai`` SDK
(``extra_body`` only): a conversation crosses the soft then the hard trigger of
``clear_tool_uses_20250919``; the server prepares the settled part of the edit as a branch after
the soft turn, catches it up, and serves the trigger turn's synchronous edit from it (``prepared:
true``, the branch cached), with the logits a cold prefill of the same edited prompt gives. A failing preparation and a forked
history fall back to the synchronous edit and say so; the tree stays intact."""
import asyncio
import time

import httpx
import openai
import pytest

from agentrt.editing import next_trigger, parse_context_management

from .test_context_editing import anthropic_history, openai_history

READ_FILE = {"type": "function", "function": {
    "name": "read_file", "description": "Read a file of the repository.",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}},
                   "required": ["path"]}}}

# tool uses of ~235 counted tokens each: 3 -> 729, 4 -> 964, 5 -> 1199, 6 -> 1434 tokens;
# soft trigger 0.7 x 1300 = 910 (crossed at 4 tool uses), hard 1300 (crossed at 6)
EDIT = {"type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens", "value": 1300},
        "keep": {"type": "tool_uses", "value": 1}}
AHEAD = {"edits": [EDIT], "lookahead": {"fraction": 0.7, "capacity_aware": False}}  # the test
# server's foreground is busy with other tests: the capacity check would defer at random
SYNC = {"edits": [EDIT], "lookahead": False}
TOL = 2e-3


@pytest.fixture(scope="module")
def oai(url):
    return openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)


def ask(oai, msgs, session, cm, **kw):
    extra = {"session_id": session, "ignore_eos": True}
    if cm is not None:
        extra["context_management"] = cm
    return oai.chat.completions.create(model="default", messages=msgs, max_tokens=4,
                                       temperature=0, logprobs=True, extra_body=extra, **kw)


def report(reply) -> dict:
    return reply.model_extra["context_management"]


def wait_ready(url, session, more_than=0, timeout_s=30.0) -> dict:
    """The session's live branch once it is ready, caught up and over ``more_than`` tokens."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        resp = httpx.get(f"{url}/agentrt/sessions/{session}", timeout=30)
        if resp.status_code == 200:
            ready = [b for b in resp.json()["branches"] if b["state"] == "ready"
                     and not b["catching_up"] and b["tokens"] > more_than]
            if ready:
                return ready[-1]
        time.sleep(0.05)
    raise AssertionError(f"no ready branch in session {session}")


def branches(url, session) -> list[dict]:
    return httpx.get(f"{url}/agentrt/sessions/{session}", timeout=30).json()["branches"]


def integrity(url) -> None:
    assert httpx.get(f"{url}/agentrt/radix/integrity", timeout=60).json() == {"ok": True}


def conversation(oai, url, session, cm, fork=None, system=None, **kw):
    """Turns with 3, 4, 5, 6 tool uses (the last is the trigger turn); ``fork`` rewrites the
    history sent at the trigger turn; ``system`` replaces the system prompt (a conversation that
    shares no cache with the others); ``kw`` go with every request. Returns the replies."""
    def history(n):
        msgs = openai_history(n)
        return msgs if system is None else [dict(msgs[0], content=system)] + msgs[1:]
    ahead = cm.get("lookahead") is not False
    replies = [ask(oai, history(3), session, cm, **kw), ask(oai, history(4), session, cm, **kw)]
    branch = wait_ready(url, session) if ahead else None     # as tool time would let it
    replies.append(ask(oai, history(5), session, cm, **kw))
    if ahead:                                                # caught up with the 5th tool use
        wait_ready(url, session, more_than=branch["tokens"])
    last = history(6)
    replies.append(ask(oai, fork(last) if fork else last, session, cm, **kw))
    return replies


def cold_edited_prompt() -> list[dict]:
    """The synchronous edit of the trigger turn's history, as the client could compute it (the
    next trigger's edit of it: uses 1-5 cleared, the 6th kept): the prompt the trigger turn
    must carry, prepared or not."""
    config = parse_context_management(AHEAD)
    edited = asyncio.run(next_trigger(openai_history(6), config, None, fmt="openai",
                                      count_tokens=lambda m: 0))
    return edited.messages


def test_trigger_turn_is_served_from_the_prepared_branch(oai, url):
    ahead = conversation(oai, url, "la-ahead", AHEAD)
    sync = conversation(oai, url, "la-sync", SYNC, system="You review the repository code, "
                                                          "synchronously.")
    for reply in ahead[:3] + sync[:3]:                 # below the hard trigger: not edited
        assert report(reply)["applied_edits"] == [] and "prepared" not in report(reply)
    got, base = report(ahead[-1]), report(sync[-1])
    # the branch holds the settled part (uses 1-4 cleared), not the kept results
    assert got["prepared"] is True and got["prepared_tokens"] > 100, got
    assert got["applied_edits"] == base["applied_edits"]          # the synchronous edit
    assert "prepared" not in base and base["applied_edits"][0]["cleared_tool_uses"] == 5
    cached = ahead[-1].usage.prompt_tokens_details.cached_tokens
    assert cached >= got["prepared_tokens"]
    assert cached > sync[-1].usage.prompt_tokens_details.cached_tokens + 50
    # sticky after the commit: the next turn extends the committed prompt and hits the cache
    after = ask(oai, openai_history(7), "la-ahead", AHEAD)
    assert report(after)["applied_edits"][0]["cleared_tool_uses"] == 5
    assert after.usage.prompt_tokens_details.cached_tokens >= ahead[-1].usage.prompt_tokens - 1
    # exactness: the same edited prompt, prefilled cold (another cache namespace), gives the
    # same greedy tokens with the same log-probabilities
    cold = oai.chat.completions.create(
        model="default", messages=cold_edited_prompt(), max_tokens=4, temperature=0,
        logprobs=True, extra_body={"ignore_eos": True, "cache_salt": "la-cold"})
    assert cold.usage.prompt_tokens_details.cached_tokens == 0
    assert cold.usage.prompt_tokens == ahead[-1].usage.prompt_tokens
    served, fresh = ahead[-1].choices[0].logprobs.content, cold.choices[0].logprobs.content
    assert [t.token for t in served] == [t.token for t in fresh]
    assert max(abs(a.logprob - b.logprob) for a, b in zip(served, fresh)) < TOL
    integrity(url)


def test_failing_preparation_falls_back_and_says_so(oai, url):
    """A summary the server cannot produce (summary_max_tokens over the context): the
    preparation fails, the trigger turn falls back to the synchronous edit, which fails too,
    and is served unedited; never an error."""
    summarize = {"type": "summarize", "trigger": {"tokens": 1300}, "keep": {"messages": 2},
                 "summary_max_tokens": 10_000_000}
    cm = {"edits": [summarize], "lookahead": {"fraction": 0.7, "capacity_aware": False}}
    replies = [ask(oai, openai_history(n), "la-fail", cm) for n in (3, 4, 5, 6)]
    got = report(replies[-1])
    assert got["prepared"] is False and "summary" in got["fallback"], got
    assert got["applied_edits"] == [] and got["error"].startswith("served unedited")
    assert replies[-1].choices[0].message is not None
    integrity(url)


def test_forked_history_does_not_use_the_preparation(oai, url):
    def fork(messages):
        messages[3] = dict(messages[3], content="a forked " + messages[3]["content"])
        return messages
    replies = conversation(oai, url, "la-fork", AHEAD, fork=fork)
    got = report(replies[-1])
    assert got["prepared"] is False and got["fallback"].startswith("stale"), got
    assert got["applied_edits"][0]["cleared_tool_uses"] == 5     # the synchronous edit
    assert [b["state"] for b in branches(url, "la-fork")] == ["stale"]
    integrity(url)


def test_a_request_with_tools_is_prepared_as_sglang_renders_it(oai, url):
    """``tools`` change the rendered prompt (the template lists them): the branch is tokenized
    through SGLang's own chat processing with the request's tools, so the trigger turn still
    starts with the whole branch."""
    ahead = conversation(oai, url, "la-tools", AHEAD, tools=[READ_FILE])
    got = report(ahead[-1])
    assert got["prepared"] is True and got["prepared_tokens"] > 100, got
    assert ahead[-1].usage.prompt_tokens_details.cached_tokens >= got["prepared_tokens"]
    integrity(url)


def test_anthropic_messages_are_prepared_as_sglang_converts_them(url):
    """/v1/messages through the official ``anthropic`` SDK: SGLang converts the blocks to chat
    messages before its template; the branch is tokenized the same way, and the trigger turn
    reads it from the cache."""
    import anthropic

    client = anthropic.Anthropic(base_url=url, api_key="unused", max_retries=0)
    edit = {"type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens",
                                                            "value": 1300},
            "keep": {"type": "tool_uses", "value": 1}}

    def turn(n_tools):
        return client.beta.messages.create(
            model="default", max_tokens=2, messages=anthropic_history(n_tools),
            system="You review code.", betas=["context-management-2025-06-27"],
            extra_body={"session_id": "la-anth", "context_management": {
                "edits": [edit], "lookahead": {"fraction": 0.7, "capacity_aware": False}}})
    turn(3), turn(4), turn(5)         # Anthropic blocks count 1,115 tokens at 5: past soft 910
    wait_ready(url, "la-anth")
    last = turn(6)                    # 1,336: the trigger turn
    got = last.context_management.model_extra or {}
    assert got.get("prepared") is True and got["prepared_tokens"] > 50, got   # 4 cleared
    assert last.usage.cache_read_input_tokens >= got["prepared_tokens"]
    integrity(url)
