"""Server-side context editing on SGLang's chat routes (agentrt.editing, applied at the edge).

A client sends its full, unedited history plus a ``context_management`` object, on
``/v1/chat/completions`` (OpenAI format; an extra body field, e.g. the ``openai`` SDK's
``extra_body``) or on ``/v1/messages`` (Anthropic format, as the ``anthropic`` SDK's beta messages
API sends it). The request guard calls ``ServerEditor.edit`` before SGLang sees the body:
  - a malformed ``context_management`` is a 400 naming the field; nothing applied;
  - the conversation's key is its ``session_id``, else the router's ``X-SMG-Routing-Key``, else
    Anthropic's ``metadata.user_id`` (with the leading messages), else the leading messages;
  - edits are sticky per conversation (agentrt/editing/README.md): between triggers the edited
    prefix is byte-identical, so the radix cache keeps hitting;
  - a summary is a background request to this same server; when it (or an offload) fails, the
    request is served unedited and the response says so (``applied_edits`` empty, ``error``).
The response carries ``context_management: {"applied_edits": [...]}`` (Anthropic's shape) in a
JSON body, and the same object in the ``x-agentrt-context-management`` header (streams too).

Lookahead (lookahead.py; ``context_management.lookahead``, on by default): from an edit's
soft trigger the server prepares the edited context in the background; at the trigger turn the
request is served from the prepared branch and the report adds ``prepared: true`` and
``prepared_tokens``, or ``prepared: false`` and ``fallback`` (why the edit was applied
synchronously). The boundary work runs after the response (``Edited.after``).

On ``/generate`` (SGLang's native route: a ``text`` or ``input_ids`` prompt, no chat template)
``context_management`` needs chat messages to edit: the body carries ``messages`` (OpenAI chat
format, as on /v1/chat/completions) *instead of* ``text`` / ``input_ids`` / ``input_embeds``
(else 400 naming the field). The edited (or, when the edit failed, unedited) messages are
rendered with the served chat template plus the generation prompt into ``input_ids`` (the ids
``/agentrt/tokenize`` gives for them) and ``messages`` is removed: SGLang then serves an
ordinary ``/generate``. ``messages`` without ``context_management`` is not read.
"""
import functools
import json
import os
from typing import Callable, NamedTuple, Optional

import httpx

from agentrt.editing import (ConversationStore, EditFailed, EditValidationError,
                             apply_context_management, conversation_key,
                             parse_context_management)
from agentrt.editing.work import message_text
from agentrt.lookahead.strategies.offload import OffloadStore
from agentrt.server.editing.served import ServedEncoding
from agentrt.server.editing.lookahead import EditLookahead
from agentrt.server.http.fields import FieldError

EDIT_FORMATS = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic",
                "/generate": "openai"}
PROMPT_FIELDS = ("text", "input_ids", "input_embeds")   # /generate: replaced by messages
HEADER = "x-agentrt-context-management"
ROUTING_KEY_HEADER = b"x-smg-routing-key"


class Edited(NamedTuple):
    """What the response reports: Anthropic's object, plus why nothing was applied if so;
    ``after``: work to run once the response is sent (the lookahead's segment boundary)."""
    report: dict
    after: Optional[Callable[[], None]] = None

    def header(self) -> tuple[bytes, bytes]:
        return HEADER.encode(), json.dumps(self.report, separators=(",", ":")).encode()


class ServerEditor:
    def __init__(self, tokenizer: Callable, self_url: Callable[[], str], state_dir: str,
                 store: Optional[ConversationStore] = None, ops=None,
                 app_state: Optional[Callable[[], object]] = None):
        """``tokenizer()`` the served tokenizer; ``self_url()`` this server's URL (summaries);
        ``ops`` (LocalOps): the lookahead API in-process (None: edits are synchronous);
        ``app_state()``: SGLang's ``app.state`` (its serving objects render prepared branches)."""
        self._tokenizer, self._self_url = tokenizer, self_url
        self._app_state = app_state
        self.store = store or ConversationStore()
        self.offload = OffloadStore(os.path.join(state_dir, "offload"))
        self._counts: dict[str, int] = {}
        self.lookahead = EditLookahead(ops, self.store, self) if ops is not None else None

    def count_tokens(self, messages) -> int:
        """Tokens of the messages' text (content, tool inputs and results, role), each message
        tokenized once (memoized by its text); ids and block types are not counted."""
        total = 0
        for message in messages:
            text = message_text(message)
            if text not in self._counts:
                if len(self._counts) > 100_000:
                    self._counts.clear()
                self._counts[text] = len(self._tokenizer().encode(text, add_special_tokens=False))
            total += self._counts[text]
        return total

    async def summarize(self, request) -> str:
        """A background chat request to this server: the summary of ``request.messages``."""
        transcript = json.dumps(request.messages, ensure_ascii=False)
        body = {"model": "default", "max_tokens": request.max_tokens, "temperature": 0,
                "request_class": "bg", "is_lookahead": True,
                "messages": [{"role": "system", "content": request.prompt},
                             {"role": "user", "content": transcript}]}
        async with httpx.AsyncClient(timeout=600) as client:
            resp = await client.post(self._self_url() + "/v1/chat/completions", json=body)
        if resp.status_code != 200:
            raise EditFailed(f"the summary request answered {resp.status_code}")
        return resp.json()["choices"][0]["message"]["content"] or ""

    async def edit(self, path: str, body: dict, headers) -> Optional[Edited]:
        """Edit ``body``'s messages in place when it asks for context management (on /generate
        the result is rendered into ``input_ids``); None when it does not ask."""
        if path not in EDIT_FORMATS or "context_management" not in body:
            return None
        try:
            config = parse_context_management(body.pop("context_management"))
        except EditValidationError as exc:
            raise FieldError(str(exc)) from None
        if path == "/generate":
            check_generate_messages(body)
        if not isinstance(body.get("messages"), list):
            raise FieldError("field 'messages' must be a list")
        edited = await self._edit_messages(path, body, headers, config)
        if path == "/generate":
            body["input_ids"] = self.render_prompt(body.pop("messages"))
        return edited

    def render_prompt(self, messages: list) -> list[int]:
        """Token ids of ``messages`` under the served chat template, generation prompt added
        (as ``/agentrt/tokenize`` renders them); a template error is a 400."""
        tokenizer = self._tokenizer()
        try:
            text = tokenizer.apply_chat_template(messages, tokenize=False,
                                                 add_generation_prompt=True)
        except Exception as exc:  # noqa: BLE001 - the template is code run on client data
            raise FieldError(f"the served chat template cannot render field 'messages': "
                             f"{type(exc).__name__}: {str(exc)[:200]}") from None
        return list(tokenizer.encode(text, add_special_tokens=False))

    async def _edit_messages(self, path: str, body: dict, headers, config) -> Edited:
        messages = body["messages"]
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        key = conversation_key(session_id=body.get("session_id"),
                               routing_key=_header(headers, ROUTING_KEY_HEADER),
                               user_id=metadata.get("user_id"), messages=messages,
                               system=body.get("system"))
        fmt, system = EDIT_FORMATS[path], body.get("system")
        ahead = self.lookahead if self.lookahead is not None \
            and self.lookahead.applies(config) else None
        state = self.store.lookup(key, messages, config, system)
        adopted = None
        if ahead is not None and ahead.is_trigger_turn(messages, config, state, fmt, system):
            adopted = await ahead.commit(key, messages, config, state, system)
        extra = adopted.report if adopted is not None else {}
        try:
            result = adopted.result if adopted is not None and adopted.result is not None \
                else await apply_context_management(
                    messages, config, state, fmt=fmt, count_tokens=self.count_tokens,
                    summarizer=self.summarize, offload_store=self.offload, system=system)
        except EditFailed as exc:
            return Edited({"applied_edits": [], "error": f"served unedited: {exc}", **extra})
        self.store.put(key, result.state)
        body["messages"] = list(result.messages)
        if ahead is None:
            return Edited(result.context_management)
        session = ahead.session_of(key)
        hint = body.get("session_id")
        if session is not None:
            body["session_id"] = session     # the tree follows the conversation's context
        encoding = ServedEncoding(path, body, self._app_state, self._tokenizer)
        return Edited({**result.context_management, **extra}, functools.partial(
            ahead.boundary, key, list(messages), config, result.state, fmt, system,
            list(result.messages), hint, encoding))


def check_generate_messages(body: dict) -> None:
    """``context_management`` on /generate: ``messages`` (a non-empty list of message objects)
    replaces the prompt fields; FieldError (400) naming the field otherwise."""
    given = [name for name in PROMPT_FIELDS if body.get(name) is not None]
    if given:
        raise FieldError(f"field 'context_management' on /generate edits chat messages: send "
                         f"'messages' instead of '{given[0]}'")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages \
            or not all(isinstance(m, dict) for m in messages):
        raise FieldError("field 'messages' (with 'context_management' on /generate) must be a "
                         "non-empty list of chat message objects")


def _header(headers, name: bytes) -> Optional[str]:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def reporting_send(send, edited: Edited):
    """``send`` that adds the edit report to the response: header always, JSON body field
    ``context_management`` when the body is one JSON object (not a stream)."""
    state = {"chunks": []}   # "start": the held start of a JSON response

    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", [])) + [edited.header()]
            state["start"] = dict(message, headers=headers)
            if not any(k.lower() == b"content-type" and v.startswith(b"application/json")
                       for k, v in headers):
                await send(state.pop("start"))
            return
        if "start" not in state:   # streaming: passed through as it comes
            return await send(message)
        state["chunks"].append(message.get("body", b""))
        if message.get("more_body"):
            return
        await _send_json_with_report(send, state["start"], b"".join(state["chunks"]), edited)
    return wrapped


async def _send_json_with_report(send, start: dict, raw: bytes, edited: Edited) -> None:
    try:
        payload = json.loads(raw)
        if isinstance(payload, dict):
            payload["context_management"] = edited.report
            raw = json.dumps(payload).encode()
    except ValueError:
        pass
    headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(raw)).encode()))
    await send(dict(start, headers=headers))
    await send({"type": "http.response.body", "body": raw, "more_body": False})
