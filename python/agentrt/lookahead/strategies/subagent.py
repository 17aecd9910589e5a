"""Sub-agent isolation: the sub-agent starts from its own system prompt plus the recent context;
its first prompt is prepared ahead of time so the hand-off costs an ordinary turn."""
from typing import Callable

from agentrt.lookahead.strategy import (ContextBudget, LookaheadStrategy, Transform, clone,
                                        recent_start)


class SubAgent(LookaheadStrategy):
    name = "subagent"

    def __init__(self, budget: ContextBudget, system_prompt: str, task: str,
                 recent_tokens: int = 7000,
                 count_tokens: Callable[[str], int] = lambda s: len(s) // 4):
        super().__init__(budget)
        self.system_prompt, self.task = system_prompt, task
        self.recent_tokens, self.count_tokens = recent_tokens, count_tokens

    async def transform(self, messages, strategy_data, llm=None) -> Transform:
        last_system = max((i + 1 for i, m in enumerate(messages) if m.get("role") == "system"),
                          default=0)
        start = recent_start(messages, self.recent_tokens, self.count_tokens, floor=last_system)
        first = [{"role": "system", "content": self.system_prompt}] + clone(messages[start:]) + \
            [{"role": "user", "content": f"Your task as a sub-agent: {self.task}"}]
        return Transform(first, {**strategy_data, "handoffs": strategy_data.get("handoffs", 0) + 1})
