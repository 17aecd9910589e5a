"""Server-side context editing through the official SDKs, by base URL only: the ``openai`` SDK
(``extra_body``) on /v1/chat/completions, the ``anthropic`` SDK's beta messages API on
/v1/messages, and ``messages`` + ``context_management`` on /generate (plain HTTP). The server
edits the full history the client sends, reports ``applied_edits``, keeps the edit sticky (the
next turn hits the cache) and refuses a malformed edit with 400."""
import json

import anthropic
import httpx
import openai
import pytest

CLEAR = {"edits": [{"type": "clear_tool_uses_20250919",
                    "trigger": {"type": "input_tokens", "value": 100},
                    "keep": {"type": "tool_uses", "value": 1}}]}
OUTPUT = "file list search result token cache prefix branch session " * 12


def openai_history(n_tools: int) -> list[dict]:
    msgs = [{"role": "system", "content": "You review the repository code."},
            {"role": "user", "content": "please review the repository"}]
    for i in range(n_tools):
        msgs.append({"role": "assistant", "content": "", "tool_calls": [{
            "id": f"call_{i}", "type": "function",
            "function": {"name": "read_file", "arguments": f'{{"path": "f{i}.py"}}'}}]})
        msgs.append({"role": "tool", "tool_call_id": f"call_{i}", "content": OUTPUT})
    return msgs


@pytest.fixture(scope="module")
def oai(url):
    return openai.OpenAI(base_url=url + "/v1", api_key="unused")


def ask(oai, msgs, session, cm=CLEAR):
    extra = {"session_id": session}
    if cm is not None:
        extra["context_management"] = cm
    return oai.chat.completions.create(model="default", messages=msgs, max_tokens=2,
                                       temperature=0, extra_body=extra)


def test_openai_sdk_clear_tool_uses(oai):
    plain = ask(oai, openai_history(4), "ed-plain", cm=None)
    edited = ask(oai, openai_history(4), "ed-1")
    report = edited.model_extra["context_management"]
    assert report["applied_edits"][0]["type"] == "clear_tool_uses_20250919"
    assert report["applied_edits"][0]["cleared_tool_uses"] == 3
    assert edited.usage.prompt_tokens < plain.usage.prompt_tokens - 200
    # sticky: below the trigger again, the next turn (one more tool use) keeps the cleared
    # prefix byte for byte and hits the cache
    sticky = {"edits": [dict(CLEAR["edits"][0], trigger={"type": "input_tokens", "value": 700})]}
    edited = ask(oai, openai_history(4), "ed-2", cm=sticky)
    assert edited.model_extra["context_management"]["applied_edits"][0]["cleared_tool_uses"] == 3
    following = ask(oai, openai_history(5), "ed-2", cm=sticky)
    cached = following.usage.prompt_tokens_details.cached_tokens
    assert following.model_extra["context_management"]["applied_edits"]
    assert cached >= edited.usage.prompt_tokens - 40


def test_malformed_context_management_is_400(oai):
    bad = {"edits": [{"type": "clear_tool_uses_20250919", "keep": {"type": "tool_uses",
                                                                    "value": -1}}]}
    with pytest.raises(openai.BadRequestError, match=r"edits\[0\]\.keep\.value"):
        ask(oai, openai_history(2), "ed-bad", cm=bad)
    with pytest.raises(openai.BadRequestError, match="context_management"):
        ask(oai, openai_history(2), "ed-bad", cm={"edits": [{"type": "nope"}]})


def test_anthropic_sdk_beta_messages(url):
    client = anthropic.Anthropic(base_url=url, api_key="unused")
    msgs = [{"role": "user", "content": "please review the repository"}]
    for i in range(4):
        msgs.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": f"tu_{i}", "name": "read_file",
             "input": {"path": f"f{i}.py"}}]})
        msgs.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"tu_{i}", "content": OUTPUT}]})
    reply = client.beta.messages.create(
        model="default", max_tokens=2, messages=msgs, system="You review code.",
        context_management=CLEAR, betas=["context-management-2025-06-27"],
        extra_body={"session_id": "ed-anthropic"})
    edits = reply.context_management.applied_edits
    assert edits[0].type == "clear_tool_uses_20250919" and edits[0].cleared_tool_uses == 3


def test_generate_with_messages_and_context_management(url, oai):
    """/generate takes ``messages`` in place of ``text`` / ``input_ids`` when it carries
    ``context_management``: edited, rendered with the served template, reported like the chat
    routes; the chat route then finds the very same prompt in the cache."""
    body = {"messages": openai_history(4), "context_management": CLEAR, "session_id": "ed-gen",
            "sampling_params": {"max_new_tokens": 2, "temperature": 0}}
    resp = httpx.post(url + "/generate", json=body, timeout=120)
    assert resp.status_code == 200, resp.text
    report = resp.json()["context_management"]
    assert report["applied_edits"][0]["cleared_tool_uses"] == 3
    assert json.loads(resp.headers["x-agentrt-context-management"]) == report
    chat = ask(oai, openai_history(4), "ed-gen-chat")
    assert chat.model_extra["context_management"] == report
    prompt = resp.json()["meta_info"]["prompt_tokens"]
    assert chat.usage.prompt_tokens == prompt
    assert chat.usage.prompt_tokens_details.cached_tokens >= prompt - 1


def test_generate_context_management_needs_messages(url):
    body = {"text": "hello", "context_management": CLEAR}
    resp = httpx.post(url + "/generate", json=body, timeout=60)
    assert resp.status_code == 400
    assert "'context_management' on /generate" in resp.json()["error"]
    assert "'text'" in resp.json()["error"]


def anthropic_history(n_tools: int) -> list[dict]:
    msgs = [{"role": "user", "content": "please review the repository"}]
    for i in range(n_tools):
        msgs.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": f"tu_{i}", "name": "read_file",
             "input": {"path": f"f{i}.py"}}]})
        msgs.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"tu_{i}", "content": OUTPUT}]})
    return msgs


def test_anthropic_sdk_keyed_by_metadata_user_id_is_sticky(url):
    """The README's example: the conversation is keyed by ``metadata.user_id``; the next turn
    keeps the cleared prefix and reads it from the cache."""
    client = anthropic.Anthropic(base_url=url, api_key="unused")
    sticky = {"edits": [dict(CLEAR["edits"][0], trigger={"type": "input_tokens", "value": 700})]}

    def turn(n_tools):
        return client.beta.messages.create(
            model="default", max_tokens=2, messages=anthropic_history(n_tools),
            system="You review code.", context_management=sticky,
            betas=["context-management-2025-06-27"], metadata={"user_id": "ed-meta"})
    first, second = turn(4), turn(5)
    assert [e.cleared_tool_uses for e in first.context_management.applied_edits] == [3]
    assert [e.cleared_tool_uses for e in second.context_management.applied_edits] == [3]
    assert second.usage.cache_read_input_tokens >= first.usage.input_tokens - 1
