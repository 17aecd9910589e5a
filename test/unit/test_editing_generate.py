"""``context_management`` on ``/generate`` through the request guard (ASGI, no server): the
messages are edited, rendered with the chat template into ``input_ids``, the route never sees
``messages``; a body that cannot apply it is a 400 naming the field, before the route runs."""
import asyncio
import json

import pytest

from agentrt.editing.edits.clear_tool_uses import PLACEHOLDER
from agentrt.server.editing.editor import ServerEditor
from agentrt.server.http.fields import Limits
from agentrt.server.http.guard import BodyRules, RequestGuard


class WordTokenizer:
    """A chat template of ``<role>content`` lines; one id per character (all < 1000)."""

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        assert tokenize is False
        if any("content" not in m for m in messages):
            raise KeyError("content")
        lines = [f"<{m['role']}>{m['content'] or ''}" for m in messages]
        return "\n".join(lines + (["<assistant>"] if add_generation_prompt else []))

    def encode(self, text, add_special_tokens):
        assert add_special_tokens is False
        return [ord(c) % 1000 for c in text]


TOKENIZER = WordTokenizer()
CLEAR = {"edits": [{"type": "clear_tool_uses_20250919",
                    "trigger": {"type": "input_tokens", "value": 50},
                    "keep": {"type": "tool_uses", "value": 1}}]}


def history(n_tools: int) -> list[dict]:
    msgs = [{"role": "user", "content": "review"}]
    for i in range(n_tools):
        msgs += [{"role": "assistant", "content": "", "tool_calls": [
                     {"id": f"c{i}", "type": "function",
                      "function": {"name": "read", "arguments": "{}"}}]},
                 {"role": "tool", "tool_call_id": f"c{i}", "content": f"out{i} " * 20}]
    return msgs


def post(body: dict, tmp_path, self_url="http://127.0.0.1:9"):
    """(status, response JSON, the body the route saw or None)."""
    seen = {}

    async def app(scope, receive, send):
        seen["body"] = json.loads((await receive())["body"])
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"text": "x", "meta_info": {}}'})

    inbox = [{"type": "http.request", "body": json.dumps(body).encode(), "more_body": False}]
    sent = []

    async def receive():
        return inbox.pop(0)

    async def send(message):
        sent.append(message)

    editor = ServerEditor(lambda: TOKENIZER, lambda: self_url, str(tmp_path))
    guard = RequestGuard(app, BodyRules(1 << 20, 64, lambda: Limits(1000, 10_000)),
                         editor=editor)
    scope = {"type": "http", "method": "POST", "path": "/generate", "headers": []}
    asyncio.run(guard(scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"]), seen.get("body")


def rendered(messages) -> list[int]:
    return TOKENIZER.encode(TOKENIZER.apply_chat_template(messages, False, True), False)


def test_generate_edits_messages_into_input_ids(tmp_path):
    body = {"messages": history(3), "context_management": CLEAR, "session_id": "g1",
            "sampling_params": {"max_new_tokens": 2}}
    status, reply, seen = post(body, tmp_path)
    expected = history(3)
    expected[2]["content"] = expected[4]["content"] = PLACEHOLDER
    assert status == 200
    assert seen == {"input_ids": rendered(expected), "session_id": "g1",
                    "sampling_params": {"max_new_tokens": 2}}
    edits = reply["context_management"]["applied_edits"]
    assert [(e["type"], e["cleared_tool_uses"]) for e in edits] == \
        [("clear_tool_uses_20250919", 2)]


def test_generate_below_the_trigger_renders_the_messages_unchanged(tmp_path):
    body = {"messages": history(1), "context_management": CLEAR}
    status, reply, seen = post(body, tmp_path)
    assert status == 200 and seen == {"input_ids": rendered(history(1))}
    assert reply["context_management"] == {"applied_edits": []}


def test_generate_failed_summary_serves_the_unedited_messages(tmp_path):
    summarize = {"edits": [{"type": "summarize", "trigger": {"messages": 2},
                            "keep": {"messages": 1}}]}
    status, reply, seen = post({"messages": history(2), "context_management": summarize},
                               tmp_path)      # the summary request finds no server
    assert status == 200 and seen == {"input_ids": rendered(history(2))}
    assert reply["context_management"]["applied_edits"] == []
    assert reply["context_management"]["error"].startswith("served unedited: summary request")


@pytest.mark.parametrize("extra, field", [
    ({"text": "hi"}, "'text'"), ({"input_ids": [1, 2]}, "'input_ids'"),
    ({"input_embeds": [[0.5]]}, "'input_embeds'")])
def test_generate_with_a_prompt_field_is_400(tmp_path, extra, field):
    body = {"messages": history(1), "context_management": CLEAR, **extra}
    status, reply, seen = post(body, tmp_path)
    assert status == 400 and seen is None
    assert "context_management" in reply["error"] and field in reply["error"]


@pytest.mark.parametrize("messages", [None, [], "hi", [["nested"]], [{"role": "user"}, 3]])
def test_generate_without_usable_messages_is_400(tmp_path, messages):
    body = {"context_management": CLEAR} | ({} if messages is None else {"messages": messages})
    status, reply, seen = post(body, tmp_path)
    assert status == 400 and seen is None and "field 'messages'" in reply["error"]


def test_generate_template_error_and_bad_edit_are_400(tmp_path):
    status, reply, _ = post({"messages": [{"role": "user"}], "context_management": CLEAR},
                            tmp_path)
    assert status == 400 and "chat template cannot render field 'messages'" in reply["error"]
    bad = {"edits": [{"type": "clear_tool_uses_20250919", "keep": {"value": -1}}]}
    status, reply, _ = post({"messages": history(1), "context_management": bad}, tmp_path)
    assert status == 400 and "context_management.edits[0].keep" in reply["error"]


def test_generate_without_context_management_is_untouched(tmp_path):
    status, reply, seen = post({"text": "hi", "messages": "not read"}, tmp_path)
    assert status == 200 and seen == {"text": "hi", "messages": "not read"}
    assert "context_management" not in reply
