"""``sliding_window`` (agentrt): keep the leading system / developer messages and the latest
messages within a token budget; drop the rest.

Fields: ``trigger`` (required) ``{"type": "input_tokens", "value": N}``: reached when the prompt
as edited so far exceeds N tokens; ``keep`` ``{"type": "input_tokens", "value": K}`` (default
N // 2, must be < N): after a trigger the kept messages count at most K tokens, except that the
latest turn is always kept (an agent works on what it just observed, as the client-side
strategy does). A window never starts on a tool result (Anthropic: on a user message that is
not a tool result). Per-message tokens are ``count_tokens([message])``.
Sticky: the window's first kept message is stored; between triggers the window only grows at
its end, so the prefix is byte-identical (the client-side strategy slides on every commit).
Needs the whole prefix (not segment-decomposable): the start depends on the tail's sizes.
"""
from dataclasses import dataclass
from typing import Optional

from agentrt.editing import fields as f
from agentrt.editing.errors import EditValidationError
from agentrt.editing.view import leading_head
from agentrt.editing.work import EditContext, Step, Work, report

TYPE = "sliding_window"


@dataclass(frozen=True)
class SlidingWindowSpec:
    trigger: int
    keep: int
    type: str = TYPE


@dataclass(frozen=True)
class Window:
    first_kept: Optional[int] = None     # origin of the first message kept after the head


def parse(raw: dict, field: str) -> SlidingWindowSpec:
    f.known_keys(raw, field, ("type", "trigger", "keep"))
    trigger = f.threshold(raw, "trigger", field, ("input_tokens",), 1)
    if trigger is None:
        raise EditValidationError(f"{field}.trigger",
                                  'is required ({"type": "input_tokens", "value": N})')
    keep = f.threshold(raw, "keep", field, ("input_tokens",), 0,
                       f.Threshold("input_tokens", trigger.value // 2))
    if keep.value >= trigger.value:
        raise EditValidationError(f"{field}.keep.value", "must be less than trigger.value")
    return SlidingWindowSpec(trigger.value, keep.value)


def _drop_before(work: Work, first_kept: Optional[int]) -> tuple[Work, int]:
    """Drop every non-head message before the first one whose origin >= ``first_kept``."""
    if first_kept is None:
        return work, 0
    head = leading_head(work.messages)
    end = next((i for i in range(head, len(work.messages))
                if work.origin[i] is not None and work.origin[i] >= first_kept),
               len(work.messages))
    return work.splice(head, end), end - head


def _start(work: Work, spec: SlidingWindowSpec, ctx: EditContext) -> int:
    view, head = work.view(), leading_head(work.messages)
    ok = [i for i in range(head, len(work.messages))
          if work.fmt.window_start_ok(view, list(work.messages), i)]
    if not ok:
        return head
    used, start = 0, len(work.messages)
    while start > head:
        cost = ctx.count_tokens([work.messages[start - 1]])
        if used + cost > spec.keep:
            break
        used, start = used + cost, start - 1
    return next((i for i in ok if i >= start), ok[-1])


def apply(work: Work, spec: SlidingWindowSpec, decision: Window, ctx: EditContext) -> Step:
    before = ctx.tokens(work)
    work, dropped = _drop_before(work, decision.first_kept)
    triggered = ctx.reached(ctx.tokens(work), spec.trigger)
    if triggered:
        start = _start(work, spec, ctx)
        origin = next((o for o in work.origin[start:] if o is not None), None)
        if start > leading_head(work.messages) and origin is not None:
            work, dropped = work.splice(leading_head(work.messages), start), \
                dropped + start - leading_head(work.messages)
            decision = Window(origin)
    return Step(work, decision, report(TYPE, before, ctx.tokens(work), dropped_messages=dropped),
                triggered)
