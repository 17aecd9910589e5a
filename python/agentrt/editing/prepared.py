"""A prepared edit and the rules for adopting it at the trigger turn (pure but for the summary).

The server's lookahead (server/editing/lookahead.py) prepares ``next_trigger(snapshot)``: the
edited messages ``P.messages`` and the sticky state ``P.state`` the next trigger would produce on
the snapshot. It is adopted at the trigger turn by editing the request with ``P.state`` as the
conversation's state (``adopt``): since decisions are sticky, the result is ``P.messages`` plus
the messages after the snapshot, byte for byte, unless the adopted prompt still reaches a trigger
(then the edit goes on from there, like any sticky edit, and the prefix may change: ``tail_after``
says so).

Rules (``stale_reason``): a preparation is used only when
  1. the configuration is the one it was prepared under (same edits);
  2. the request's history extends the snapshot (same messages, same system): an edited or
     forked history is stale;
  3. the conversation's stored state is still the lineage the snapshot was taken in (the state
     looked up for the request is not fresh and covers the snapshot): a fork that was served in
     between reset it.
Between the preparation's start and the trigger turn no triggered edit fires (the first turn
that would fire one *is* the trigger turn, and it consumes the preparation), so adopting
``P.state`` drops no decision the conversation made since the snapshot.

``EditTransform`` is the edit as a lookahead strategy (``transform`` = ``next_trigger``), so the
client-side Preparer and Job drive it unchanged.
"""
from typing import Any, Optional, Sequence

from agentrt.editing.config import ContextManagement
from agentrt.editing.engine import EditResult, Summarizer, edit_messages
from agentrt.editing.errors import EditFailed, SummaryNeeded
from agentrt.editing.lookahead import next_trigger
from agentrt.editing.state import ConversationState
from agentrt.editing.work import CountTokens, EditContext, OffloadSink
from agentrt.lookahead.strategy import Message, Transform, TransformError

RESULT = "result"      # Transform.strategy_data key of the prepared EditResult


class EditTransform:
    """The conversation's ``context_management`` as the Preparer's strategy: ``transform`` is
    ``next_trigger`` of the snapshot from the state the preparation started in."""
    name = "context_management"
    segment_local = False     # the tail is appended as the adopted edit renders it (tail_after)

    def __init__(self, config: ContextManagement, base: Optional[ConversationState], *,
                 fmt: str, count_tokens: CountTokens, summarizer: Optional[Summarizer],
                 offload_store: Optional[OffloadSink], system: Any = None):
        self.config, self.base, self.fmt, self.system = config, base, fmt, system
        self.count_tokens, self.summarizer, self.offload_store = \
            count_tokens, summarizer, offload_store

    async def transform(self, messages: list[Message], strategy_data: dict,
                        llm=None) -> Transform:
        """``Transform(P.messages, {RESULT: P})``; TransformError when an edit cannot be
        computed (e.g. the summary request failed)."""
        try:
            result = await next_trigger(messages, self.config, self.base, fmt=self.fmt,
                                        count_tokens=self.count_tokens,
                                        summarizer=self.summarizer,
                                        offload_store=self.offload_store, system=self.system)
        except EditFailed as exc:
            raise TransformError(str(exc)) from exc
        return Transform(result.messages, {RESULT: result})

    def adopt(self, prepared: EditResult, messages: Sequence[Message]) -> EditResult:
        """The request's edit with the prepared state adopted (no summary is requested: a
        summarize trigger reached again raises TransformError)."""
        ctx = EditContext(self.count_tokens, {}, self.offload_store)
        try:
            return edit_messages(messages, self.config, prepared.state, fmt=self.fmt, ctx=ctx,
                                 system=self.system)
        except (SummaryNeeded, EditFailed) as exc:
            raise TransformError(f"the adopted edit needs more: {exc}") from exc

    def tail_after(self, prepared: EditResult, messages: Sequence[Message]) -> list[Message]:
        """What the adopted edit of ``messages`` appends after the prepared messages (a
        catch-up); TransformError when it does not start with them."""
        return tail_after(prepared.messages, self.adopt(prepared, messages).messages)


def tail_after(prefix: Sequence[Message], messages: Sequence[Message]) -> list[Message]:
    """``messages`` after ``prefix``; TransformError when they do not start with it."""
    if list(messages[:len(prefix)]) != list(prefix):
        raise TransformError("the adopted edit rewrites the prepared prefix")
    return list(messages[len(prefix):])


def stale_reason(prepared: ConversationState, current: Optional[ConversationState],
                 messages: Sequence[Message], config: ContextManagement,
                 system: Any = None) -> Optional[str]:
    """Why the preparation must not be used for this request (rules 1-3), or None."""
    if prepared.config != config.signature:
        return "the context_management configuration changed since the preparation"
    if not prepared.extended_by(messages, config, system):
        return "the history was edited or forked since the preparation"
    if current is None or current.length < prepared.length:
        return "the conversation's edit state was reset since the preparation"
    return None
