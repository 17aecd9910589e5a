"""Wire formats: each indexes messages into a ``View`` and rewrites one message at a time
(copy on write: an input message is never mutated). ``FORMATS`` is the registry.

| primitive     | Anthropic Messages                      | OpenAI chat                      |
|---------------|-----------------------------------------|----------------------------------|
| tool call     | assistant ``tool_use`` (``input``)      | ``tool_calls[j]`` (``arguments``) |
| tool result   | user ``tool_result`` (``tool_use_id``)  | ``role: "tool"`` (``tool_call_id``) |
| thinking      | ``thinking`` / ``redacted_thinking``    | ``reasoning_content`` / ``reasoning`` |
| cleared input | ``input: {}``                           | ``arguments: "{}"``              |
| summary       | ``{"role": "user", "content": text}``   | the same                         |

Malformed shapes are left alone (never an error here; the server's own validation owns them).
"""
import abc

from agentrt.editing.view import View, group_turns, leading_head, pair_tool_uses
from agentrt.lookahead.strategy import Message

_THINKING_BLOCKS = ("thinking", "redacted_thinking")
_REASONING_KEYS = ("reasoning_content", "reasoning")


def _text_of(content) -> "str | None":
    """A result's text when it is a string or text-only blocks; None otherwise (images...)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(b, dict) and b.get("type") == "text"
                                         and isinstance(b.get("text"), str) for b in content):
        return "\n".join(b["text"] for b in content)
    return None


class Format(abc.ABC):
    name = "format"

    @abc.abstractmethod
    def index(self, messages: list[Message]) -> View: ...

    @abc.abstractmethod
    def result_text(self, message: Message, block) -> "str | None": ...

    @abc.abstractmethod
    def set_result(self, message: Message, block, text: str) -> Message: ...

    @abc.abstractmethod
    def clear_input(self, message: Message, slot: int) -> Message: ...

    @abc.abstractmethod
    def strip_thinking(self, message: Message) -> Message: ...

    def summary_message(self, text: str) -> Message:
        return {"role": "user", "content": text}

    def window_start_ok(self, view: View, messages: list[Message], i: int) -> bool:
        """A kept tail may start at ``i``: never on an orphaned tool result."""
        return i not in view.tool_results_only


class AnthropicFormat(Format):
    name = "anthropic"

    def index(self, messages):
        calls, results, thinking, only = [], [], {}, set()
        turn = 0
        for i, m in enumerate(messages):
            if not isinstance(m, dict):
                continue
            blocks = m.get("content") if isinstance(m.get("content"), list) else []
            kinds = [b.get("type") for b in blocks if isinstance(b, dict)]
            if m.get("role") == "user":
                if blocks and all(k == "tool_result" for k in kinds) and len(kinds) == len(blocks):
                    only.add(i)
                else:
                    turn += 1
                results += [(i, j, b.get("tool_use_id")) for j, b in enumerate(blocks)
                            if isinstance(b, dict) and b.get("type") == "tool_result"]
            elif m.get("role") == "assistant":
                calls += [(i, j, b.get("id"), b.get("name")) for j, b in enumerate(blocks)
                          if isinstance(b, dict) and b.get("type") == "tool_use"]
                if any(k in _THINKING_BLOCKS for k in kinds):
                    thinking[i] = turn
        return View(leading_head(messages), pair_tool_uses(calls, results),
                    group_turns(thinking), frozenset(only))

    def result_text(self, message, block):
        return _text_of(message["content"][block].get("content", ""))

    def set_result(self, message, block, text):
        blocks = list(message["content"])
        blocks[block] = {**blocks[block], "content": text}
        return {**message, "content": blocks}

    def clear_input(self, message, slot):
        blocks = list(message["content"])
        blocks[slot] = {**blocks[slot], "input": {}}
        return {**message, "content": blocks}

    def strip_thinking(self, message):
        return {**message, "content": [b for b in message["content"]
                                       if not (isinstance(b, dict)
                                               and b.get("type") in _THINKING_BLOCKS)]}

    def window_start_ok(self, view, messages, i):
        """Anthropic: a conversation starts with a user message that is not a tool result."""
        return isinstance(messages[i], dict) and messages[i].get("role") == "user" \
            and i not in view.tool_results_only


class OpenAIFormat(Format):
    name = "openai"

    def index(self, messages):
        calls, results, thinking, only = [], [], {}, set()
        turn = 0
        for i, m in enumerate(messages):
            role = m.get("role") if isinstance(m, dict) else None
            if role == "user":
                turn += 1
            elif role == "tool":
                only.add(i)
                results.append((i, None, m.get("tool_call_id")))
            elif role == "assistant":
                tool_calls = m.get("tool_calls") if isinstance(m.get("tool_calls"), list) else []
                calls += [(i, j, tc.get("id"), (tc.get("function") or {}).get("name"))
                          for j, tc in enumerate(tool_calls) if isinstance(tc, dict)]
                if any(m.get(k) for k in _REASONING_KEYS):
                    thinking[i] = turn
        return View(leading_head(messages), pair_tool_uses(calls, results),
                    group_turns(thinking), frozenset(only))

    def result_text(self, message, block):
        return _text_of(message.get("content", ""))

    def set_result(self, message, block, text):
        return {**message, "content": text}

    def clear_input(self, message, slot):
        calls = list(message["tool_calls"])
        call = calls[slot]
        calls[slot] = {**call, "function": {**(call.get("function") or {}), "arguments": "{}"}}
        return {**message, "tool_calls": calls}

    def strip_thinking(self, message):
        return {k: v for k, v in message.items() if k not in _REASONING_KEYS}


FORMATS: dict[str, Format] = {f.name: f for f in (AnthropicFormat(), OpenAIFormat())}
