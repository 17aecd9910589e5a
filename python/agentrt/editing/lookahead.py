"""Hook points for the server's lookahead (pure; wired by server/editing/lookahead.py).

``soft_triggers``: which edits' triggers are reached at ``fraction`` of their value but not yet
at the value itself: the server starts preparing the edited context then. ``hard_triggers``:
which edits the synchronous edit would fire on this request (trigger reached *and* a new
decision: a ``clear_at_least`` that holds an edit back is no trigger turn): the commit turn.
``soft_reached``: soft triggers including edits past their value but held back (what the server
prepares after each request: the next trigger turn may be the next request).
``next_trigger``:
the result the next trigger would produce now (every trigger treated as reached): its
``messages`` are what to prefill into the prepared branch, and adopting its ``state`` at the
commit turn (pass it as the conversation's state) makes the commit request's prompt that branch
plus the messages appended since, byte for byte, since decisions are sticky.

Segment-decomposability: ``clear_tool_uses_20250919``, ``clear_thinking_20251015`` and
``offload`` map each message on its own (its edited form depends only on that message and the
decision). ``settled``: the leading part of such an edit's result that no later request can
change (before the first message an edit may still rewrite: a result ``keep`` protects now but
a later trigger clears). A branch holds only that part, so it is a prefix of the synchronous
edit at the trigger turn, whatever arrives before it: the commit is exactly the synchronous
edit, and catch-ups append settled (cleared) messages, not the full results a later edit
drops. ``summarize`` and ``sliding_window`` need the whole prefix (the summary reads every
covered message, the window start depends on the tail's sizes), so their result is prepared
from a snapshot and the messages after it are appended unedited. Edits without a trigger
(``clear_thinking_20251015``, ``offload`` without ``trigger``) apply on every request and are
never "soft".
"""
from dataclasses import replace
from typing import Any, Mapping, Optional, Sequence

from agentrt.editing.config import ContextManagement
from agentrt.editing.edits import EDIT_KINDS
from agentrt.editing.engine import EditResult, Summarizer, apply_context_management, \
    edit_messages
from agentrt.editing.formats import FORMATS
from agentrt.editing.state import ConversationState, usable
from agentrt.editing.work import CountTokens, EditContext, OffloadSink, Work
from agentrt.lookahead.strategy import Message


class _AnySummary(Mapping):
    """A summary for every key (trigger probing never needs the text)."""

    def __getitem__(self, key):
        return "..."

    def __contains__(self, key):
        return True

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0


class _NoStore:
    """An offload store that stores nothing (trigger probing)."""

    def put(self, text: str) -> str:
        return "(probe)"


def _fired(messages, config, state, fmt, count_tokens, scale, system) -> set[int]:
    ctx = EditContext(count_tokens, _AnySummary(), _NoStore(), scale=scale)
    result = edit_messages(messages, config, state, fmt=fmt, ctx=ctx, system=system)
    return {i for i, spec in enumerate(config.edits) if spec.type in result.triggered}


def soft_triggers(messages: Sequence[Message], config: ContextManagement,
                  state: Optional[ConversationState], *, fmt: str, count_tokens: CountTokens,
                  fraction: float = 0.8, system: Any = None) -> tuple[int, ...]:
    """Indices of the edits whose trigger is reached at ``fraction`` of its value and not at
    the value (nothing is stored or summarized: a probe)."""
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    soft = _fired(messages, config, state, fmt, count_tokens, fraction, system)
    hard = _fired(messages, config, state, fmt, count_tokens, 1.0, system)
    return tuple(sorted(soft - hard))


def soft_reached(messages: Sequence[Message], config: ContextManagement,
                 state: Optional[ConversationState], *, fmt: str, count_tokens: CountTokens,
                 fraction: float = 0.8, system: Any = None) -> tuple[int, ...]:
    """Indices of the edits whose trigger is reached at ``fraction`` of its value, the value
    itself included (an edit reached but held back by ``clear_at_least`` or ``keep`` is still
    due): what the server prepares after a request (a probe, nothing is stored)."""
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    return tuple(sorted(_fired(messages, config, state, fmt, count_tokens, fraction, system)))


def hard_triggers(messages: Sequence[Message], config: ContextManagement,
                  state: Optional[ConversationState], *, fmt: str, count_tokens: CountTokens,
                  system: Any = None) -> tuple[int, ...]:
    """Indices of the edits whose trigger is reached on this request and whose sticky decision
    grows (what the synchronous edit would rewrite now); a probe, nothing is stored."""
    fresh = usable(state, messages, config, system)
    before = fresh.decisions if fresh else tuple(EDIT_KINDS[s.type].empty
                                                 for s in config.edits)
    ctx = EditContext(count_tokens, _AnySummary(), _NoStore())
    result = edit_messages(messages, config, state, fmt=fmt, ctx=ctx, system=system)
    return tuple(i for i, spec in enumerate(config.edits)
                 if spec.type in result.triggered and result.state.decisions[i] != before[i])


async def next_trigger(messages: Sequence[Message], config: ContextManagement,
                       state: Optional[ConversationState], *, fmt: str,
                       count_tokens: CountTokens, summarizer: Optional[Summarizer] = None,
                       offload_store: Optional[OffloadSink] = None,
                       system: Any = None) -> EditResult:
    """The edited messages (and state) the next trigger would produce on this history."""
    return await apply_context_management(messages, config, state, fmt=fmt,
                                          count_tokens=count_tokens, summarizer=summarizer,
                                          offload_store=offload_store, system=system, force=True)


def one_use_ahead(config: ContextManagement) -> ContextManagement:
    """``config`` as the next request finds it when it brings one more tool use (and assistant
    turn): each decomposable edit's ``keep`` one less. An agent's trigger turn nearly always
    brings one, and the server sees it only in that request, so a branch settled one use ahead
    holds what that request settles (a trigger turn without one finds the branch one use too
    far, and its prompt reuses the prefix they share)."""
    def ahead(spec):   # every decomposable kind has ``keep`` (None: keep all)
        if not EDIT_KINDS[spec.type].decomposable or spec.keep is None:
            return spec
        return replace(spec, keep=max(0, spec.keep - 1))
    return replace(config, edits=tuple(ahead(spec) for spec in config.edits))


def decomposable(config: ContextManagement) -> bool:
    """Every edit of ``config`` maps each message on its own (``settled`` applies)."""
    return all(EDIT_KINDS[spec.type].decomposable for spec in config.edits)


def settled(messages: Sequence[Message], config: ContextManagement, result: EditResult, *,
            fmt: str, count_tokens: CountTokens) -> list[Message]:
    """The leading messages of ``result`` (a ``decomposable`` config's edit of ``messages``)
    that no later request can change: up to the first message an edit may still rewrite under
    its decision (each kind's ``unsettled``; with several edits each is asked on the unedited
    messages, which can only end the part earlier), then back to a message a conversation may
    end on (not an assistant turn's: its results follow it)."""
    if len(result.messages) != len(messages):
        return []
    work = Work(FORMATS[fmt], tuple(messages), tuple(range(len(messages))))
    ctx = EditContext(count_tokens)
    end = min((EDIT_KINDS[spec.type].unsettled(work, spec, decision, ctx)
               for spec, decision in zip(config.edits, result.state.decisions)),
              default=len(messages))
    while end > 0 and isinstance(result.messages[end - 1], dict) \
            and result.messages[end - 1].get("role") == "assistant":
        end -= 1
    return list(result.messages[:end])
