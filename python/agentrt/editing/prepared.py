"""A prepared edit and the rules for adopting it at the trigger turn (pure but for the summary).

The server's lookahead (server/editing/lookahead.py) prepares ``next_trigger(snapshot)``: the
edited messages ``P.messages`` and the sticky state ``P.state`` the next trigger would produce on
the snapshot. Two ways to use it, by the configuration (``EditTransform.segment_local``):

- Decomposable edits (clear tool uses, clear thinking, offload: each message edited on its own):
  the branch holds only the part no later request can change (``settled``), taken one tool use
  ahead (``one_use_ahead``: the trigger turn brings one, and the server sees it only then), and
  catch-ups append the settled part of later histories (cleared results, not the full ones).
  The trigger turn gets the synchronous edit (``synchronous``), which starts with the branch:
  the commit is exactly what the synchronous path serves, as compact.
- Whole-prefix edits (summarize, sliding window): the branch holds ``P.messages`` and the
  trigger turn adopts ``P.state`` (``adopt``): since decisions are sticky, the result is
  ``P.messages`` plus the messages after the snapshot, byte for byte, unless the adopted prompt
  still reaches a trigger (then the edit goes on from there, like any sticky edit, and the
  prefix may change: ``tail_after`` says so).

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
from agentrt.editing.lookahead import decomposable, next_trigger, one_use_ahead, settled
from agentrt.editing.state import ConversationState
from agentrt.editing.work import CountTokens, EditContext, OffloadSink
from agentrt.lookahead.strategy import Message, Transform, TransformError

RESULT = "result"      # Transform.strategy_data key of the prepared EditResult


class EditTransform:
    """The conversation's ``context_management`` as the Preparer's strategy: ``transform`` is
    ``next_trigger`` of the snapshot from the state the preparation started in (its settled
    part when ``segment_local``)."""
    name = "context_management"

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
        branch = self._settled(messages) if self.segment_local else result.messages
        if branch == list(messages[:len(branch)]):   # nothing settled is edited: nothing to
            branch = list(messages)                  # prepare (the Preparer's "unchanged")
        return Transform(branch, {RESULT: result})

    @property
    def segment_local(self) -> bool:
        """Every edit maps each message on its own: branches hold settled parts only and the
        trigger turn gets the synchronous edit."""
        return decomposable(self.config)

    def synchronous(self, messages: Sequence[Message],
                    state: Optional[ConversationState]) -> EditResult:
        """The edit the request gets without lookahead (a decomposable configuration needs no
        summary); TransformError when it cannot be computed."""
        ctx = EditContext(self.count_tokens, {}, self.offload_store)
        return self._edit(messages, state, ctx)

    def adopt(self, prepared: EditResult, messages: Sequence[Message]) -> EditResult:
        """The request's edit with the prepared state adopted (no summary is requested: a
        summarize trigger reached again raises TransformError)."""
        ctx = EditContext(self.count_tokens, {}, self.offload_store)
        return self._edit(messages, prepared.state, ctx)

    def tail_after(self, prepared: EditResult, branch: Sequence[Message],
                   messages: Sequence[Message]) -> list[Message]:
        """What a catch-up appends to the ``branch`` messages for the newer history
        ``messages``: the settled part of the next trigger's edit of it after the branch
        (``segment_local``), else the adopted edit after the prepared messages; TransformError
        when it does not start with the branch."""
        if not self.segment_local:
            return tail_after(branch, self.adopt(prepared, messages).messages)
        return tail_after(branch, self._settled(messages))

    def _settled(self, messages: Sequence[Message]) -> list[Message]:
        """The settled part, one tool use ahead (``one_use_ahead``), of the next trigger's edit
        of ``messages``."""
        ahead = one_use_ahead(self.config)
        ctx = EditContext(self.count_tokens, {}, self.offload_store, force=True)
        edited = self._edit(messages, None, ctx, ahead)
        return settled(messages, ahead, edited, fmt=self.fmt, count_tokens=self.count_tokens)

    def _edit(self, messages: Sequence[Message], state: Optional[ConversationState],
              ctx: EditContext, config: Optional[ContextManagement] = None) -> EditResult:
        try:
            return edit_messages(messages, config or self.config, state, fmt=self.fmt, ctx=ctx,
                                 system=self.system)
        except (SummaryNeeded, EditFailed) as exc:
            raise TransformError(f"the edit needs more: {exc}") from exc


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
