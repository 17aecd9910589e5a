"""Clearing old tool results: keep the last N tool outputs, replace older ones by a stub.

The transformed prefix ends at the N-th most recent tool output (``segment_end``) and the
transform clears every tool output in it, so the transform is segment-local: an output, once
older than the last N, stays cleared whatever comes later. A prepared commit is then exactly
the synchronous one, and catch-ups append only the messages before the N-th most recent
output (what comes after may still be kept when the commit comes)."""
from agentrt.lookahead.strategy import ContextBudget, LookaheadStrategy, Transform, clone, \
    is_tool_output

CLEARED = "[old tool result cleared]"


class ClearToolResults(LookaheadStrategy):
    name = "clear_tool_results"

    def __init__(self, budget: ContextBudget, keep_last: int = 3):
        super().__init__(budget)
        if keep_last < 0:
            raise ValueError("keep_last must be >= 0")
        self.keep_last = keep_last

    @property
    def segment_local(self) -> bool:
        return True     # each tool output of the prefix is cleared on its own

    def segment_end(self, messages) -> int:
        """The N-th most recent tool output (the first one kept); with fewer than N outputs
        the first output (nothing to clear); without any, the end."""
        tool_idx = [i for i, m in enumerate(messages) if is_tool_output(m)]
        kept = tool_idx[max(0, len(tool_idx) - self.keep_last):] if self.keep_last else []
        return kept[0] if kept else len(messages)

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
