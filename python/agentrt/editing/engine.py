"""Applying ``context_management`` to one request: the pure core and its async driver.

``edit_messages`` (pure): the request's full unedited messages + the parsed configuration + the
conversation's state (None: fresh) -> ``EditResult`` (edited messages, ``applied_edits`` in
Anthropic's shape, the new state). It raises ``SummaryNeeded`` when a summary it was not given
is due; ``apply_context_management`` (async) then awaits the injected summarizer and runs the
core again: the core stays a function of its inputs.

Where agentrt refines Anthropic's text (Anthropic re-evaluates every request from scratch):
1. Edits are sticky: what an edit cleared / dropped / summarized / offloaded stays so on every
   later request of the conversation, byte for byte, until the next trigger.
2. Triggers are evaluated on the prompt *with* the sticky edits applied (the prompt the model
   sees), so after a clear the prompt grows again from the smaller size; ``clear_at_least``
   measures the newly cleared tokens.
3. ``applied_edits`` reports what is in effect on this request (the sticky part included);
   ``EditResult.triggered`` says which edits fired anew.
A fresh state (first request, or a history that does not extend the stored one) gives exactly
Anthropic's single-request result.
"""
from typing import Any, Awaitable, Callable, NamedTuple, Optional, Sequence

from agentrt.editing.config import ContextManagement
from agentrt.editing.edits import EDIT_KINDS
from agentrt.editing.errors import EditFailed, SummaryNeeded, SummaryRequest
from agentrt.editing.formats import FORMATS
from agentrt.editing.state import ConversationState, history_digest, usable
from agentrt.editing.work import CountTokens, EditContext, OffloadSink, Work
from agentrt.lookahead.strategy import Message

Summarizer = Callable[[SummaryRequest], Awaitable[str]]


class EditResult(NamedTuple):
    messages: list[Message]          # what the model gets
    applied_edits: list[dict]        # Anthropic's context_management.applied_edits
    state: ConversationState         # store it for the conversation's next request
    triggered: tuple[str, ...]       # edit types whose trigger was reached on this request
    original_input_tokens: int       # count_tokens of the unedited messages
    input_tokens: int                # count_tokens of the edited messages
    reused_state: bool               # the given state was used (False: fresh)

    @property
    def context_management(self) -> dict:
        """The response's ``context_management`` object."""
        return {"applied_edits": self.applied_edits}


def edit_messages(messages: Sequence[Message], config: ContextManagement,
                  state: Optional[ConversationState], *, fmt: str, ctx: EditContext,
                  system: Any = None) -> EditResult:
    """Pure: apply ``config`` to ``messages`` (never mutated) reusing ``state`` when the history
    extends it. ``fmt``: ``"anthropic"`` or ``"openai"``. ``ctx.count_tokens(messages)`` must
    return the prompt's input tokens (the caller folds in the system prompt and tools)."""
    fresh = usable(state, messages, config, system)
    decisions = fresh.decisions if fresh else tuple(EDIT_KINDS[s.type].empty
                                                    for s in config.edits)
    work = Work(FORMATS[fmt], tuple(messages), tuple(range(len(messages))))
    reports, new, triggered = [], [], []
    for spec, decision in zip(config.edits, decisions):
        step = EDIT_KINDS[spec.type].apply(work, spec, decision, ctx)
        work = step.work
        new.append(step.decision)
        reports += [step.report] if step.report else []
        triggered += [spec.type] if step.triggered else []
    out = ConversationState(len(messages), history_digest(messages, len(messages), system),
                            config.signature, tuple(new))
    return EditResult(list(work.messages), reports, out, tuple(triggered),
                      ctx.count_tokens(list(messages)), ctx.tokens(work), fresh is not None)


async def apply_context_management(messages: Sequence[Message], config: ContextManagement,
                                   state: Optional[ConversationState], *, fmt: str,
                                   count_tokens: CountTokens,
                                   summarizer: Optional[Summarizer] = None,
                                   offload_store: Optional[OffloadSink] = None,
                                   system: Any = None, force: bool = False) -> EditResult:
    """``edit_messages`` with summaries produced on demand by ``summarizer``. Raises
    ``EditFailed`` when a summary cannot be produced (the caller serves the request unedited)."""
    summaries: dict[str, str] = {}
    for _ in range(len(config.edits) + 1):
        ctx = EditContext(count_tokens, summaries, offload_store, force)
        try:
            return edit_messages(messages, config, state, fmt=fmt, ctx=ctx, system=system)
        except SummaryNeeded as need:
            summaries[need.request.key] = await _summary(summarizer, need.request)
    raise EditFailed("summaries did not settle")


async def _summary(summarizer: Optional[Summarizer], request: SummaryRequest) -> str:
    if summarizer is None:
        raise EditFailed("the summarize edit needs a summarizer")
    try:
        text = await summarizer(request)
    except Exception as exc:  # noqa: BLE001 - any failure of the background request
        raise EditFailed(f"summary request failed: {exc}") from exc
    if not isinstance(text, str) or not text.strip():
        raise EditFailed("summary request returned no text")
    return text
