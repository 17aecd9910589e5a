"""Clearing old tool results: keep the last N tool outputs, replace older ones by a stub."""
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

    async def transform(self, messages, strategy_data, llm=None) -> Transform:
        out = clone(messages)
        tool_idx = [i for i, m in enumerate(out) if is_tool_output(m)]
        clear = tool_idx[:max(0, len(tool_idx) - self.keep_last)]
        for i in clear:
            out[i]["content"] = CLEARED
        return Transform(out, {**strategy_data,
                               "cleared": strategy_data.get("cleared", 0) + len(clear)})
