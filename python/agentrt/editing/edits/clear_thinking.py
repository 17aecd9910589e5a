"""``clear_thinking_20251015`` (Anthropic's thinking block clearing).

Rules:
- ``keep``: ``{"type": "thinking_turns", "value": N}`` (N >= 1), ``{"type": "all"}`` or
  ``"all"``; default: only the last assistant turn's thinking (Anthropic: "equivalent to keep:
  {type: 'thinking_turns', value: 1}"). The N most recent assistant turns that hold thinking
  keep it; every older turn loses its thinking blocks (Anthropic) / ``reasoning_content``
  (OpenAI). A turn is everything between two user messages that are not tool results.
- No trigger: applied on every request, as Anthropic does. Each new turn pushes one more turn
  out of ``keep``, so the prompt changes at that (recent) turn; agentrt keeps every turn it
  stripped stripped (sticky), so the prefix before it never changes.
- Reported as ``cleared_thinking_turns`` (turns whose thinking is absent from this prompt).
Segment-decomposable: each message's edited form depends on that message and the stripped set;
``unsettled``: the first message of the oldest turn that still has its thinking.
"""
from dataclasses import dataclass
from typing import Optional

from agentrt.editing import fields as f
from agentrt.editing.errors import EditValidationError
from agentrt.editing.work import EditContext, Step, Work, report

TYPE = "clear_thinking_20251015"


@dataclass(frozen=True)
class ClearThinking:
    keep: Optional[int] = 1            # None: keep all
    type: str = TYPE


@dataclass(frozen=True)
class Stripped:
    origins: frozenset = frozenset()   # origins of assistant messages whose thinking is gone


def parse(raw: dict, field: str) -> ClearThinking:
    f.known_keys(raw, field, ("type", "keep"))
    keep = raw.get("keep")
    if keep is None:
        return ClearThinking()
    if keep == "all":
        return ClearThinking(None)
    if isinstance(keep, dict) and keep.get("type") == "all":
        f.known_keys(keep, f"{field}.keep", ("type",))
        return ClearThinking(None)
    if not isinstance(keep, dict):
        raise EditValidationError(f"{field}.keep",
                                  'must be "all" or {"type": "thinking_turns", "value": N}')
    return ClearThinking(f.threshold(raw, "keep", field, ("thinking_turns",), 1).value)


def apply(work: Work, spec: ClearThinking, decision: Stripped, ctx: EditContext) -> Step:
    before, turns = ctx.tokens(work), work.view().thinking_turns
    old = turns[:max(0, len(turns) - spec.keep)] if spec.keep is not None else ()
    origins = decision.origins | {work.origin[i] for turn in old for i in turn
                                  if work.origin[i] is not None}
    work = work.replace({i: work.fmt.strip_thinking(work.messages[i])
                         for turn in turns for i in turn if work.origin[i] in origins})
    cleared = sum(1 for turn in turns if any(work.origin[i] in origins for i in turn))
    return Step(work, Stripped(origins), report(TYPE, before, ctx.tokens(work),
                                                cleared_thinking_turns=cleared), False)


def unsettled(work: Work, spec: ClearThinking, decision: Stripped, ctx: EditContext) -> int:
    """Index of the first message a later request may still strip (the oldest turn that keeps
    its thinking); ``len(messages)`` when none (or ``keep`` is all)."""
    if spec.keep is None:
        return len(work.messages)
    kept = [turn for turn in work.view().thinking_turns
            if not any(work.origin[i] in decision.origins for i in turn)]
    return min((turn[0] for turn in kept), default=len(work.messages))
