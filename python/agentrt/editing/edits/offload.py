"""``offload`` (agentrt): large tool results go to the offload store, the prompt keeps a
reference (the client-side ``offload`` strategy's text: path, size, the first characters).

Fields: ``threshold`` ``{"type": "input_tokens", "value": N}`` (default 1000): a result is
offloaded when its text counts more than N tokens; ``keep`` ``{"type": "tool_uses", "value":
K}`` (default 1): the K most recent tool uses are never offloaded (the model still reads the
observation it just got); ``exclude_tools``; ``trigger`` ``{"type": "input_tokens", "value":
N}`` (default none: every request). Only text results are offloaded (images stay).
Sticky: an offloaded result keeps the same reference text on every later request.
Segment-decomposable: each message's edited form depends on that message and the decision;
``unsettled``: the first large result not offloaded yet.
"""
from dataclasses import dataclass
from typing import Optional

from agentrt.editing import fields as f
from agentrt.editing.errors import EditFailed
from agentrt.editing.work import EditContext, Step, Work, report, tool_key
from agentrt.lookahead.strategies.offload import Offload as _ClientOffload
from agentrt.lookahead.strategy import ContextBudget

TYPE = "offload"
# the client-side strategy formats the reference; one instance is the formatter
_REFERENCE = _ClientOffload(ContextBudget(tokens=1), store=None)


@dataclass(frozen=True)
class OffloadSpec:
    threshold: int = 1000
    keep: int = 1
    exclude_tools: tuple[str, ...] = ()
    trigger: Optional[f.Threshold] = None
    type: str = TYPE


@dataclass(frozen=True)
class Offloaded:
    references: tuple = ()          # ((tool key, reference text), ...) in offload order


def parse(raw: dict, field: str) -> OffloadSpec:
    f.known_keys(raw, field, ("type", "threshold", "keep", "exclude_tools", "trigger"))
    threshold = f.threshold(raw, "threshold", field, ("input_tokens",), 0,
                            f.Threshold("input_tokens", 1000))
    keep = f.threshold(raw, "keep", field, ("tool_uses",), 0, f.Threshold("tool_uses", 1))
    exclude = f.names(raw["exclude_tools"], f"{field}.exclude_tools") \
        if raw.get("exclude_tools") is not None else ()
    trigger = f.threshold(raw, "trigger", field, ("input_tokens",), 1)
    return OffloadSpec(threshold.value, keep.value, exclude, trigger)


def _text_tokens(ctx: EditContext, text: str) -> int:
    return ctx.count_tokens([{"role": "user", "content": text}])


def _offloadable(work: Work, spec: OffloadSpec, uses, known: dict, ctx: EditContext):
    """(use, key, text) for each use whose large text result is not offloaded yet."""
    for use in uses:
        key = tool_key(work, use)
        if use.result is None or key is None or key in known or use.name in spec.exclude_tools:
            continue
        text = work.fmt.result_text(work.messages[use.result[0]], use.result[1])
        if text is not None and _text_tokens(ctx, text) > spec.threshold:
            yield use, key, text


def _new_references(work: Work, spec: OffloadSpec, uses, known: dict, ctx: EditContext):
    """(key, reference) for each older, large, text result not offloaded yet."""
    found = []
    for _, key, text in _offloadable(work, spec, uses[:max(0, len(uses) - spec.keep)], known,
                                     ctx):
        if ctx.offload_store is None:
            raise EditFailed("the offload edit needs an offload store")
        found.append((key, _REFERENCE.reference(ctx.offload_store.put(text), text)))
    return found


def _substitute(work: Work, uses, refs: dict) -> Work:
    changes = {}
    for use in uses:
        key = tool_key(work, use)
        if use.result is not None and key in refs:
            index, block = use.result
            changes[index] = work.fmt.set_result(changes.get(index, work.messages[index]),
                                                 block, refs[key])
    return work.replace(changes)


def apply(work: Work, spec: OffloadSpec, decision: Offloaded, ctx: EditContext) -> Step:
    before, uses = ctx.tokens(work), work.view().tool_uses
    refs = dict(decision.references)
    work = _substitute(work, uses, refs)
    triggered = spec.trigger is None or ctx.reached(ctx.tokens(work), spec.trigger.value)
    new = _new_references(work, spec, uses, refs, ctx) if triggered else []
    work = _substitute(work, uses, dict(new))
    refs.update(new)
    count = sum(1 for u in uses if u.result is not None and tool_key(work, u) in refs)
    return Step(work, Offloaded(decision.references + tuple(new)),
                report(TYPE, before, ctx.tokens(work), offloaded_tool_results=count),
                triggered and spec.trigger is not None)


def unsettled(work: Work, spec: OffloadSpec, decision: Offloaded, ctx: EditContext) -> int:
    """Index of the first message a later request may still offload (a large text result not
    offloaded yet); ``len(messages)`` when none."""
    found = _offloadable(work, spec, work.view().tool_uses, dict(decision.references), ctx)
    return min((use.result[0] for use, _, _ in found), default=len(work.messages))
