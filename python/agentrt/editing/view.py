"""The neutral representation the edits are written over: a ``View`` indexes a message list
(in either wire format) into tool uses, thinking turns and tool-result messages. Edits read the
view and rewrite single messages through the format's primitives; no edit looks at a wire
format itself.

A *tool use* is one call (Anthropic ``tool_use`` block / OpenAI ``tool_calls[j]``) paired with
its result (the first later ``tool_result`` / ``role: "tool"`` message with the same id not
already paired). An *assistant turn* is everything between two user messages that are not pure
tool results: one turn may hold several assistant messages (a tool loop).
"""
from collections import defaultdict
from typing import NamedTuple, Optional

# (message index, block index) of a tool result; block is None for an OpenAI tool message
ResultAt = tuple[int, Optional[int]]


class ToolUse(NamedTuple):
    call: int                      # index of the assistant message holding the call
    slot: int                      # block index (Anthropic) / tool_calls index (OpenAI)
    id: str
    name: str
    result: Optional[ResultAt]     # None: no result in this history (yet)


class View(NamedTuple):
    head: int                                  # leading system / developer messages
    tool_uses: tuple[ToolUse, ...]             # in call order
    thinking_turns: tuple[tuple[int, ...], ...]  # per turn with thinking: those messages
    tool_results_only: frozenset[int]          # messages that carry nothing but tool results


def pair_tool_uses(calls: list[tuple[int, int, str, str]],
                   results: list[tuple[int, Optional[int], str]]) -> tuple[ToolUse, ...]:
    """Pair each call with the first unpaired later result carrying its id (ids may repeat
    across turns in some clients; position disambiguates). Ids that are not strings pair
    with nothing; a name that is not a string reads as ""."""
    pending: dict[str, list[ResultAt]] = defaultdict(list)
    for index, block, rid in results:
        if isinstance(rid, str):
            pending[rid].append((index, block))
    uses = []
    for index, slot, cid, name in calls:
        cid, name = (cid if isinstance(cid, str) else ""), (name if isinstance(name, str) else "")
        queue = pending.get(cid, []) if cid else []
        at = next((k for k, r in enumerate(queue) if r[0] > index), None)
        uses.append(ToolUse(index, slot, cid, name, queue.pop(at) if at is not None else None))
    return tuple(uses)


def group_turns(turn_of: dict[int, int]) -> tuple[tuple[int, ...], ...]:
    """Messages with thinking (index -> turn number) grouped by turn, oldest first."""
    grouped: dict[int, list[int]] = defaultdict(list)
    for index, turn in sorted(turn_of.items()):
        grouped[turn].append(index)
    return tuple(tuple(grouped[t]) for t in sorted(grouped))


def leading_head(messages, roles=("system", "developer")) -> int:
    """Leading instruction messages every edit keeps (``developer`` is OpenAI's newer system).
    Anthropic's system prompt is a top-level field, so its head is 0."""
    n = 0
    while n < len(messages) and isinstance(messages[n], dict) and messages[n].get("role") in roles:
        n += 1
    return n
