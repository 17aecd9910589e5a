"""Program text <-> chat messages, with the frontend's chat template (pure functions).

An SGLang frontend program builds ``text_`` role by role: ``prefix + content + suffix`` per
message, where the interpreter's ``messages_`` keeps each content *left-stripped*. The lookahead
runtime works on messages, and a prepared branch must hold exactly the tokens the next model call
will send, so agentrt needs messages whose rendering is byte-for-byte the program's text:

    text_ = | prefix0 content0 suffix0 | prefix1 content1 suffix1 | ... | open role (prefix ...) |
            |<------------------- render(view.messages) ------------->|<- text_[closed_end:] ->|

``chat_view`` recovers those exact messages (and where the closed ones end) or returns None when
the text does not follow the template (text outside roles, images): no lookahead for that call.
"""
import dataclasses
from typing import NamedTuple

from sglang.lang.chat_template import ChatTemplate

Message = dict


class ChatView(NamedTuple):
    messages: list[Message]   # the closed messages, contents exactly as in the text
    closed_end: int           # text[:closed_end] == render(messages)


def render(messages: list[Message], template: ChatTemplate) -> str:
    """The text the interpreter produces for these (closed) messages."""
    out = []
    for i, m in enumerate(messages):
        prefix, suffix = template.get_prefix_and_suffix(m["role"], messages[:i])
        out.append(f"{prefix}{m['content']}{suffix}")
    return "".join(out)


def generation_prefix(messages: list[Message], template: ChatTemplate) -> str:
    """What ``sgl.assistant(...)`` writes before the model's answer."""
    return template.get_prefix_and_suffix("assistant", messages)[0]


def _content_end(text: str, start: int, content: str, suffix: str) -> int | None:
    """End of a message's content in ``text``: leading whitespace (stripped by the interpreter),
    then ``content``, then ``suffix``."""
    k = start
    while True:
        end = k + len(content)
        if text.startswith(content, k) and text.startswith(suffix, end):
            return end
        if k >= len(text) or not text[k].isspace():
            return None
        k += 1


def chat_view(text: str, messages: list[Message], template: ChatTemplate) -> ChatView | None:
    """The program's closed messages with their exact contents, or None if the text does not
    follow the template."""
    pos, exact = 0, []
    for i, m in enumerate(messages):
        content = m.get("content")
        if not isinstance(content, str):
            return None          # multimodal content: not a plain chat
        prefix, suffix = template.get_prefix_and_suffix(m["role"], messages[:i])
        if not text.startswith(prefix, pos):
            return None
        start = pos + len(prefix)
        end = _content_end(text, start, content, suffix)
        if end is None:
            return None
        exact.append({**m, "content": text[start:end]})
        pos = end + len(suffix)
    return ChatView(exact, pos)


def as_interpreter_messages(messages: list[Message]) -> list[Message]:
    """``messages_`` as the interpreter keeps them (contents left-stripped)."""
    return [{**m, "content": m["content"].lstrip()} for m in messages]


def with_tool_role(template: ChatTemplate) -> ChatTemplate:
    """The template plus a ``tool`` role shaped like its ``user`` role (ChatML: <|im_start|>tool),
    unless it has one; tool outputs are appended as ``tool`` messages."""
    roles = template.role_prefix_and_suffix
    if "tool" in roles or "user" not in roles:
        return template
    prefix, suffix = roles["user"]
    return dataclasses.replace(template, role_prefix_and_suffix={
        **roles, "tool": (prefix.replace("user", "tool"), suffix)})
