"""What every edit works on and returns.

``Work`` is the conversation as edited so far: the messages plus, per message, its index in
the client's unedited history (``origin``; None for a message an edit made, e.g. a summary).
Sticky decisions are keyed by origin, so they mean the same message on every later request.

An edit is ``apply(work, spec, decision, ctx) -> Step``: (1) re-apply its stored decision, (2)
evaluate its trigger on the result, (3) when reached, extend the decision. Pure: the only
outside inputs are ``ctx.count_tokens``, the summaries it is given and the offload store.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple, Optional, Protocol, Sequence

from agentrt.editing.formats import Format
from agentrt.editing.view import View
from agentrt.lookahead.strategy import Message

CountTokens = Callable[[Sequence[Message]], int]
NOT_TEXT = frozenset({"type", "id", "tool_call_id", "tool_use_id"})


def message_text(message: Message) -> str:
    """What a message's input tokens are counted on: its string leaves in order (content, tool
    inputs and results, role), ids and block types left out, joined by newlines."""
    return "\n".join(_string_leaves(message))


def _string_leaves(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in NOT_TEXT:
                yield from _string_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _string_leaves(item)


class OffloadSink(Protocol):
    """Where offloaded tool results go (``lookahead.strategies.offload.OffloadStore`` fits):
    ``put(text)`` stores the text and returns its reference (a path); the same text must always
    give the same reference, so a re-applied offload is byte-identical."""

    def put(self, text: str) -> Any: ...


@dataclass(frozen=True)
class Work:
    fmt: Format
    messages: tuple[Message, ...]
    origin: tuple[Optional[int], ...]

    def view(self) -> View:
        return self.fmt.index(list(self.messages))

    def replace(self, changes: Mapping[int, Message]) -> "Work":
        """The same conversation with some messages (by current index) rewritten."""
        if not changes:
            return self
        return Work(self.fmt, tuple(changes.get(i, m) for i, m in enumerate(self.messages)),
                    self.origin)

    def splice(self, start: int, end: int, inserted: Sequence[Message] = ()) -> "Work":
        """Messages ``[start, end)`` replaced by ``inserted`` (synthetic: origin None)."""
        return Work(self.fmt, self.messages[:start] + tuple(inserted) + self.messages[end:],
                    self.origin[:start] + (None,) * len(inserted) + self.origin[end:])


@dataclass(frozen=True)
class EditContext:
    """``force``: every trigger counts as reached (what the next trigger would produce);
    ``scale``: thresholds are multiplied by it (0.8: the soft trigger of the lookahead)."""
    count_tokens: CountTokens
    summaries: Mapping[str, str] = field(default_factory=dict)
    offload_store: Optional[OffloadSink] = None
    force: bool = False
    scale: float = 1.0

    def tokens(self, work: Work) -> int:
        return self.count_tokens(list(work.messages))

    def reached(self, current: int, limit: int, strict: bool = True) -> bool:
        """``current`` exceeds (``strict``) or reaches ``limit`` scaled by ``scale``."""
        if self.force:
            return True
        bound = limit * self.scale
        return current > bound if strict else current >= bound


class Step(NamedTuple):
    work: Work                   # the conversation after this edit
    decision: Any                # the edit's sticky decision after this request
    report: Optional[dict]       # its ``applied_edits`` entry; None when it changed nothing
    triggered: bool              # its trigger was reached on this request (edits with one)


def tool_key(work: Work, use) -> Optional[tuple[int, int]]:
    """A tool use's sticky key: (origin of the calling message, slot)."""
    origin = work.origin[use.call]
    return None if origin is None else (origin, use.slot)


def report(kind: str, before: int, after: int, **counts: int) -> Optional[dict]:
    """An ``applied_edits`` entry (Anthropic's shape: ``type``, counts, ``cleared_input_tokens``)
    or None when the edit touched nothing on this request."""
    if not any(counts.values()):
        return None
    return {"type": kind, **counts, "cleared_input_tokens": max(0, before - after)}
