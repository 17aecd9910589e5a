"""``summarize`` (agentrt; in the spirit of LangChain's ``SummarizationMiddleware``): the older
part of the conversation becomes one summary message, the recent messages stay verbatim.

Fields: ``trigger`` (required) ``{"tokens": N}`` or ``{"messages": M}``: reached when the
prompt as edited so far has at least N tokens / M messages (LangChain's ``>=``); ``keep``
``{"messages": K}`` (default 20, LangChain's default): the last K messages stay (a kept tail
never starts on a tool result: those go into the summary); ``summary_max_tokens`` (default 256).
The summary text comes from an injected summarizer (a background request to the server): this
edit is pure given it (``SummaryNeeded`` asks for it). The summary message is
``{"role": "user", "content": "Summary of the earlier conversation: ..."}`` as the client-side
strategy writes it; leading system / developer messages are kept.
Sticky: the summary and the original messages it covers are stored; later requests reuse it
byte for byte; a new trigger summarizes the previous summary plus the newly older messages.
Needs the whole prefix (not segment-decomposable): the summary depends on every covered message.
"""
from dataclasses import dataclass
from typing import Optional

from agentrt.editing import fields as f
from agentrt.editing.errors import EditValidationError, SummaryNeeded, SummaryRequest
from agentrt.editing.view import leading_head
from agentrt.editing.work import EditContext, Step, Work, report
from agentrt.lookahead.strategies.summarize import PROMPT
from agentrt.lookahead.strategy import signature

TYPE = "summarize"
PREFIX = "Summary of the earlier conversation: "


@dataclass(frozen=True)
class SummarizeSpec:
    trigger: f.Threshold
    keep: int = 20
    summary_max_tokens: int = 256
    type: str = TYPE


@dataclass(frozen=True)
class Summary:
    covers: Optional[tuple[int, int]] = None   # original messages [start, end) replaced
    text: str = ""


def parse(raw: dict, field: str) -> SummarizeSpec:
    f.known_keys(raw, field, ("type", "trigger", "keep", "summary_max_tokens"))
    trigger = f.one_of_counts(raw, "trigger", field, ("tokens", "messages"))
    if trigger is None:
        raise EditValidationError(f"{field}.trigger", 'is required ({"tokens": N} or '
                                                      '{"messages": M})')
    keep = f.one_of_counts(raw, "keep", field, ("messages",), 0) or f.Threshold("messages", 20)
    max_tokens = f.integer(raw.get("summary_max_tokens", 256), f"{field}.summary_max_tokens", 1)
    return SummarizeSpec(trigger, keep.value, max_tokens)


def _reuse(work: Work, decision: Summary) -> tuple[Work, bool]:
    """The covered originals present in ``work`` replaced by the stored summary, placed where
    the first of them was; (work, whether the summary is in it)."""
    if decision.covers is None:
        return work, False
    start, end = decision.covers
    at = {i for i, o in enumerate(work.origin) if o is not None and start <= o < end}
    if not at:
        return work, False
    first, rest = min(at), [i for i in range(len(work.messages)) if i not in at]
    work = Work(work.fmt, tuple(work.messages[i] for i in rest),
                tuple(work.origin[i] for i in rest))
    return work.splice(first, first, [work.fmt.summary_message(PREFIX + decision.text)]), True


def _cut(work: Work, spec: SummarizeSpec) -> int:
    view, cut = work.view(), max(0, len(work.messages) - spec.keep)
    while cut < len(work.messages) and cut in view.tool_results_only:
        cut += 1
    return cut


def apply(work: Work, spec: SummarizeSpec, decision: Summary, ctx: EditContext) -> Step:
    before = ctx.tokens(work)
    work, present = _reuse(work, decision)
    current = ctx.tokens(work) if spec.trigger.kind == "tokens" else len(work.messages)
    triggered = ctx.reached(current, spec.trigger.value, strict=False)
    head, cut = leading_head(work.messages), _cut(work, spec)
    covered = [o for o in work.origin[head:cut] if o is not None]
    if triggered and covered:
        key = signature(list(work.messages[head:cut]))
        if key not in ctx.summaries:
            raise SummaryNeeded(SummaryRequest(key, list(work.messages[head:cut]), PROMPT,
                                               spec.summary_max_tokens))
        start = decision.covers[0] if decision.covers else min(covered)
        decision = Summary((start, max(covered) + 1), ctx.summaries[key].strip())
        work = work.splice(head, cut, [work.fmt.summary_message(PREFIX + decision.text)])
        present = True
    span = decision.covers[1] - decision.covers[0] if present else 0
    return Step(work, decision, report(TYPE, before, ctx.tokens(work),
                                       summarized_messages=span), triggered)
