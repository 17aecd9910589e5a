"""``clear_tool_uses_20250919`` (Anthropic's tool result clearing).

Rules (Anthropic's documented fields and defaults; agentrt's reading where the text is silent):
- ``trigger``: ``{"type": "input_tokens" | "tool_uses", "value": N}``, default 100,000 input
  tokens. Reached when the prompt *exceeds* N (input tokens of the prompt as edited so far;
  tool uses still holding their result).
- ``keep``: ``{"type": "tool_uses", "value": N}``, default 3: the N most recent tool uses (of
  any tool, excluded ones included, as LangChain's mirror of this edit counts them) are never
  cleared.
- Clearing goes oldest first over the older tool uses that have a result and are not in
  ``exclude_tools``; each result's content becomes the placeholder (the client-side
  ``clear_tool_results`` strategy's text). ``clear_tool_inputs``: ``true`` also empties every
  cleared call's input, a list empties only those tools' inputs (the SDK's ``bool | list``).
- ``clear_at_least``: ``{"type": "input_tokens", "value": N}``: the prompt changes only when the
  clearing frees at least N tokens (SDK: "Context will only be modified if at least this many
  tokens can be removed"); otherwise nothing is cleared.
- Sticky (agentrt): cleared uses stay cleared on later requests of the conversation; the trigger
  is evaluated on the prompt with them cleared, and ``clear_at_least`` measures the *newly*
  cleared tokens, so between triggers the edited prefix is byte-identical.
Segment-decomposable: each message's edited form depends on that message and the cleared keys;
``unsettled``: the first message a later trigger may still rewrite (a clearable result not
cleared yet, or its call when inputs are cleared).
"""
from dataclasses import dataclass
from typing import Optional, Union

from agentrt.editing import fields as f
from agentrt.editing.errors import EditValidationError
from agentrt.editing.work import EditContext, Step, Work, report, tool_key
from agentrt.lookahead.strategies.clear_tool_results import CLEARED

TYPE = "clear_tool_uses_20250919"
PLACEHOLDER = CLEARED


@dataclass(frozen=True)
class ClearToolUses:
    trigger: f.Threshold = f.Threshold("input_tokens", 100_000)
    keep: int = 3
    clear_at_least: Optional[int] = None
    exclude_tools: tuple[str, ...] = ()
    clear_tool_inputs: Union[bool, tuple[str, ...]] = False
    type: str = TYPE

    def clears_input(self, name: str) -> bool:
        if isinstance(self.clear_tool_inputs, bool):
            return self.clear_tool_inputs
        return name in self.clear_tool_inputs


@dataclass(frozen=True)
class Cleared:
    keys: frozenset = frozenset()        # tool keys (origin of the call message, slot)


def parse(raw: dict, field: str) -> ClearToolUses:
    f.known_keys(raw, field, ("type", "trigger", "keep", "clear_at_least", "exclude_tools",
                              "clear_tool_inputs"))
    trigger = f.threshold(raw, "trigger", field, ("input_tokens", "tool_uses"), 1,
                          ClearToolUses.trigger)
    keep = f.threshold(raw, "keep", field, ("tool_uses",), 0, f.Threshold("tool_uses", 3))
    least = f.threshold(raw, "clear_at_least", field, ("input_tokens",), 0)
    exclude = f.names(raw["exclude_tools"], f"{field}.exclude_tools") \
        if raw.get("exclude_tools") is not None else ()
    inputs = raw.get("clear_tool_inputs")
    if inputs is None:
        inputs = False
    elif isinstance(inputs, list):
        inputs = f.names(inputs, f"{field}.clear_tool_inputs")
    elif not isinstance(inputs, bool):
        raise EditValidationError(f"{field}.clear_tool_inputs",
                                  "must be a boolean or a list of tool names")
    return ClearToolUses(trigger, keep.value, least.value if least else None, exclude, inputs)


def _clear(work: Work, uses, spec: ClearToolUses) -> Work:
    changes = {}
    for use in uses:
        index, block = use.result
        changes[index] = work.fmt.set_result(changes.get(index, work.messages[index]), block,
                                             PLACEHOLDER)
        if spec.clears_input(use.name):
            msg = changes.get(use.call, work.messages[use.call])
            changes[use.call] = work.fmt.clear_input(msg, use.slot)
    return work.replace(changes)


def _reached(work: Work, spec: ClearToolUses, uses, keys, ctx: EditContext) -> bool:
    if spec.trigger.kind == "tool_uses":
        live = sum(1 for u in uses if u.result is not None and tool_key(work, u) not in keys)
        return ctx.reached(live, spec.trigger.value)
    return ctx.reached(ctx.tokens(work), spec.trigger.value)


def apply(work: Work, spec: ClearToolUses, decision: Cleared, ctx: EditContext) -> Step:
    before = ctx.tokens(work)
    uses = work.view().tool_uses
    sticky = [u for u in uses if u.result is not None and tool_key(work, u) in decision.keys]
    work, keys = _clear(work, sticky, spec), decision.keys
    triggered = _reached(work, spec, uses, keys, ctx)
    if triggered:
        older = uses[:max(0, len(uses) - spec.keep)]
        new = [u for u in older if u.result is not None and u.name not in spec.exclude_tools
               and tool_key(work, u) is not None and tool_key(work, u) not in keys]
        cleared = _clear(work, new, spec)
        if new and ctx.tokens(work) - ctx.tokens(cleared) >= (spec.clear_at_least or 0):
            work, keys = cleared, keys | {tool_key(work, u) for u in new}
    count = sum(1 for u in uses if u.result is not None and tool_key(work, u) in keys)
    return Step(work, Cleared(keys), report(TYPE, before, ctx.tokens(work),
                                            cleared_tool_uses=count), triggered)


def unsettled(work: Work, spec: ClearToolUses, decision: Cleared, ctx: EditContext) -> int:
    """Index of the first message whose edited form a later trigger may still change (every
    message before it is final under ``decision``); ``len(messages)`` when none."""
    first = len(work.messages)
    for use in work.view().tool_uses:
        key = tool_key(work, use)
        if key is None or key in decision.keys or use.name in spec.exclude_tools:
            continue
        if use.result is not None:
            first = min(first, use.result[0])
        if spec.clears_input(use.name):
            first = min(first, use.call)
    return first
