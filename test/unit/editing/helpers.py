"""Message builders for both wire formats and a simple token counter (words in text fields)."""
import copy

from agentrt.editing.edits.clear_tool_uses import PLACEHOLDER

_STRUCTURAL = {"role", "type", "id", "tool_use_id", "tool_call_id", "name", "signature"}


def words(messages) -> int:
    """Tokens = whitespace-separated words in every non-structural string (ids, roles, types
    and names are free)."""
    def walk(value, key=None):
        if isinstance(value, str):
            return 0 if key in _STRUCTURAL else len(value.split())
        if isinstance(value, dict):
            return sum(walk(v, k) for k, v in value.items())
        if isinstance(value, list):
            return sum(walk(v, key) for v in value)
        return 0
    return sum(walk(m) for m in messages)


def text(n: int, word: str = "w") -> str:
    return " ".join([word] * n)


# OpenAI chat
def o_sys(content="You are terse."):
    return {"role": "system", "content": content}


def o_user(content):
    return {"role": "user", "content": content}


def o_call(cid, name, args='{"q": 1}', reasoning=None, content=None):
    m = {"role": "assistant", "content": content,
         "tool_calls": [{"id": cid, "type": "function",
                         "function": {"name": name, "arguments": args}}]}
    if reasoning is not None:
        m["reasoning_content"] = reasoning
    return m


def o_result(cid, content):
    return {"role": "tool", "tool_call_id": cid, "content": content}


def o_reply(content, reasoning=None):
    m = {"role": "assistant", "content": content}
    if reasoning is not None:
        m["reasoning_content"] = reasoning
    return m


# Anthropic Messages
def tool_history(uses, size=20):
    """An OpenAI conversation of ``uses`` tool uses (6 tokens, then 22 per use by ``words``)."""
    out = [o_sys(), o_user("fix the bug")]
    for k in range(1, uses + 1):
        out += [o_call(f"t{k}", "read"), o_result(f"t{k}", text(size, f"r{k}"))]
    return out


def a_user(content):
    return {"role": "user", "content": content}


def a_call(cid, name, inp=None, thinking=None):
    blocks = [] if thinking is None else [{"type": "thinking", "thinking": thinking,
                                           "signature": "sig"}]
    blocks.append({"type": "tool_use", "id": cid, "name": name,
                   "input": {"q": "one"} if inp is None else inp})
    return {"role": "assistant", "content": blocks}


def a_result(cid, content):
    return {"role": "user", "content": [{"type": "tool_result", "tool_use_id": cid,
                                         "content": content}]}


def a_reply(content, thinking=None):
    blocks = [] if thinking is None else [{"type": "thinking", "thinking": thinking,
                                           "signature": "sig"}]
    return {"role": "assistant", "content": blocks + [{"type": "text", "text": content}]}


def cleared_openai(message):
    return {**message, "content": PLACEHOLDER}


def cleared_anthropic(message):
    out = copy.deepcopy(message)
    out["content"][0]["content"] = PLACEHOLDER
    return out
