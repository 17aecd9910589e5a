"""A deliberately simple reference of ``clear_tool_uses_20250919`` on one request (fresh
state), for OpenAI chat messages with unique tool call ids. Written from the rules, not from
the implementation: find the calls, decide, copy, replace."""
import copy

from agentrt.editing.edits.clear_tool_uses import PLACEHOLDER


def reference_clear(messages, trigger_kind, trigger_value, keep, clear_at_least, exclude,
                    clear_inputs, count):
    """(edited messages, cleared tool uses)."""
    calls = []                                   # (message index, call index, id, name)
    for i, m in enumerate(messages):
        for j, call in enumerate(m.get("tool_calls") or []):
            calls.append((i, j, call["id"], call["function"]["name"]))
    result_at = {m["tool_call_id"]: i for i, m in enumerate(messages) if m["role"] == "tool"}
    if trigger_kind == "input_tokens":
        fired = count(messages) > trigger_value
    else:
        fired = sum(1 for c in calls if c[2] in result_at) > trigger_value
    if not fired:
        return messages, 0
    out, cleared = copy.deepcopy(messages), 0
    older = calls[:len(calls) - keep] if keep < len(calls) else []
    for i, j, cid, name in older:
        if name in exclude or cid not in result_at:
            continue
        out[result_at[cid]]["content"] = PLACEHOLDER
        if clear_inputs is True or (isinstance(clear_inputs, list) and name in clear_inputs):
            out[i]["tool_calls"][j]["function"]["arguments"] = "{}"
        cleared += 1
    if cleared == 0 or count(messages) - count(out) < (clear_at_least or 0):
        return messages, 0
    return out, cleared


def to_anthropic(messages):
    """The same conversation in Anthropic's format (tool results of one turn in one message)."""
    out = []
    for m in messages:
        if m["role"] == "tool":
            block = {"type": "tool_result", "tool_use_id": m["tool_call_id"],
                     "content": m["content"]}
            if out and out[-1]["role"] == "user" and isinstance(out[-1]["content"], list):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif m["role"] == "assistant":
            out.append({"role": "assistant", "content": [
                {"type": "tool_use", "id": c["id"], "name": c["function"]["name"],
                 "input": {} if c["function"]["arguments"] == "{}" else
                 {"args": c["function"]["arguments"]}} for c in m["tool_calls"]]})
        else:
            out.append({"role": m["role"], "content": m["content"]})
    return out


def content_words(messages) -> int:
    """Words in ``content`` strings only: equal for both formats of one conversation."""
    def walk(value, key=None):
        if isinstance(value, str):
            return len(value.split()) if key == "content" else 0
        if isinstance(value, dict):
            return sum(walk(v, k) for k, v in value.items())
        if isinstance(value, list):
            return sum(walk(v, key) for v in value)
        return 0
    return sum(walk(m) for m in messages)
