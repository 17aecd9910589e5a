"""Sliding window: keep the system prompt and the most recent turns (by tokens or by turns;
the latest turn always).

What a commit keeps: by turns, the last ``keep_turns`` messages of the snapshot plus every
message that arrived after it; by tokens, about ``keep_tokens`` in all: a window prepared
before the hard threshold keeps ``keep_tokens`` minus the room left to it (``commit_reserve``),
which the messages arriving until the commit fill."""
from typing import Callable, Optional

from agentrt.lookahead.strategy import (ContextBudget, LookaheadStrategy, Transform, clone,
                                        leading_system, recent_start)


class SlidingWindow(LookaheadStrategy):
    name = "sliding_window"

    def __init__(self, budget: ContextBudget, keep_tokens: Optional[int] = None,
                 keep_turns: Optional[int] = None,
                 count_tokens: Callable[[str], int] = lambda s: len(s) // 4):
        super().__init__(budget)
        if (keep_tokens is None) == (keep_turns is None):
            raise ValueError("give exactly one of keep_tokens and keep_turns")
        self.keep_tokens, self.keep_turns, self.count_tokens = keep_tokens, keep_turns, count_tokens

    def _window_start(self, messages) -> int:
        head = leading_system(messages)
        if self.keep_turns is not None:
            start = max(head, len(messages) - self.keep_turns)
            while start < len(messages) and messages[start].get("role") == "tool":
                start += 1   # never start on a tool output whose call was cut off
            return start
        keep = self.keep_tokens - self.commit_reserve(messages, self.count_tokens)
        start = recent_start(messages, max(0, keep), self.count_tokens, floor=head)
        # never drop the latest turn (the last call and its tool outputs), even when it alone is
        # over the window: an agent keeps working on what it just observed
        last = len(messages) - 1
        while last > head and messages[last].get("role") == "tool":
            last -= 1
        return min(start, max(head, last))

    async def transform(self, messages, strategy_data, llm=None) -> Transform:
        head, start = leading_system(messages), self._window_start(messages)
        dropped = strategy_data.get("dropped", 0) + (start - head)
        return Transform(clone(messages[:head]) + clone(messages[start:]),
                         {**strategy_data, "dropped": dropped})
