"""Clearing old tool results: keep at most the last N tool outputs, replace older ones by a stub.

What a commit keeps: the last ``keep_last`` tool outputs, fewer when keeping them would leave
the committed context at or above the soft threshold (older ones are cleared first; the most
recent output is kept: the agent has not answered it yet). Without that cap a large kept
output leaves the context above the soft threshold, the next preparation starts at once and
the next commit comes a segment or two later, each prefilling its branch again.

Where even the most recent output alone leaves the context above the soft threshold (the
replies themselves are large), the preparation after that commit clears it once the agent has
answered it, before the next output arrives: the next commit, which would clear it anyway, is
then prepared in that tool's time instead of taken synchronously (its branch prefills little:
the answer after the cleared output).

The transformed prefix ends at the first kept output (``segment_end``) and the transform clears
every tool output in it, so the transform is segment-local: an output, once cleared, stays
cleared whatever comes later (``segment_end`` only moves forward as messages arrive: more
messages mean fewer outputs fit). A prepared commit is then exactly the synchronous one, and
catch-ups append only the messages before the first kept output (what comes after may still
be kept when the commit comes)."""
from typing import Callable

from agentrt.lookahead.strategy import ContextBudget, LookaheadStrategy, Transform, clone, \
    is_tool_output

CLEARED = "[old tool result cleared]"


class ClearToolResults(LookaheadStrategy):
    name = "clear_tool_results"

    def __init__(self, budget: ContextBudget, keep_last: int = 3,
                 count_tokens: Callable[[str], int] = lambda s: len(s) // 4):
        super().__init__(budget)
        if keep_last < 0:
            raise ValueError("keep_last must be >= 0")
        self.keep_last, self.count_tokens = keep_last, count_tokens

    @property
    def segment_local(self) -> bool:
        return True     # each tool output of the prefix is cleared on its own

    def segment_end(self, messages) -> int:
        """The first tool output kept: of the last N, the oldest whose keeping leaves the context
        below the soft threshold. When none does, the most recent output is kept while the
        agent has not answered it; once answered (an assistant message follows it) it is
        cleared too and nothing is kept (the end). Without any output: the end."""
        tool_idx = [i for i, m in enumerate(messages) if is_tool_output(m)]
        kept = tool_idx[max(0, len(tool_idx) - self.keep_last):] if self.keep_last else []
        for start in kept:
            if self._tokens_kept_from(messages, start) < self.budget.soft_tokens:
                return start
        if kept and not answered(messages, kept[-1]):
            return kept[-1]
        return len(messages)

    def _tokens_kept_from(self, messages, start: int) -> int:
        """The context's tokens (message contents) once every tool output before ``start`` is
        cleared."""
        cleared = self.count_tokens(CLEARED)
        return sum(cleared if i < start and is_tool_output(m)
                   else self.count_tokens(m.get("content") or "")
                   for i, m in enumerate(messages))

    async def transform(self, messages, strategy_data, llm=None) -> Transform:
        """Every tool output of ``messages`` (a prefix that ends at ``segment_end``) cleared."""
        out = clone(messages)
        cleared = 0
        for m in out:
            if is_tool_output(m) and m.get("content") != CLEARED:
                m["content"] = CLEARED
                cleared += 1
        return Transform(out, {**strategy_data,
                               "cleared": strategy_data.get("cleared", 0) + cleared})


def answered(messages, index: int) -> bool:
    """An assistant message follows ``messages[index]``."""
    return any(m.get("role") == "assistant" for m in messages[index + 1:])
