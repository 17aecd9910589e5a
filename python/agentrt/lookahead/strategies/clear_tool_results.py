"""Clearing old tool results: keep the last N tool outputs, replace older ones by a stub.

With ``keep_last=0`` the transform is segment-local (every tool output is cleared), so a commit
is exactly the synchronous transform. With N > 0 which outputs are "the last N" depends on later
segments: a prepared commit keeps the last N outputs of its snapshot plus every segment that
arrived after the snapshot, as they are."""
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
        return self.keep_last == 0

    async def transform(self, messages, strategy_data, llm=None) -> Transform:
        out = clone(messages)
        tool_idx = [i for i, m in enumerate(out) if is_tool_output(m)]
        clear = tool_idx[:max(0, len(tool_idx) - self.keep_last)]
        for i in clear:
            out[i]["content"] = CLEARED
        return Transform(out, {**strategy_data,
                               "cleared": strategy_data.get("cleared", 0) + len(clear)})
