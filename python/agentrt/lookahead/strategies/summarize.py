"""Summarization: an LLM summary of the older prefix replaces it; a recent tail is kept.

The summary is a background request to the same server. ``tool_outputs_only`` compresses only
tool outputs (reasoning turns are kept verbatim), as AgentInfer's AgentCompress does.

What a commit keeps: the summary and about ``keep_tail_tokens`` of recent messages; a summary
prepared before the hard threshold keeps ``keep_tail_tokens`` minus the room left to it
(``commit_reserve``), which the messages arriving until the commit fill.
"""
from typing import Callable

from agentrt.lookahead.strategy import (ContextBudget, LookaheadStrategy, Transform,
                                        TransformError, clone, is_tool_output, leading_system,
                                        recent_start)

PROMPT = ("Summarize the conversation above for an assistant who must continue the task. "
          "Keep facts, file names, decisions and open questions. Be brief.")


class Summarize(LookaheadStrategy):
    name = "summarize"

    def __init__(self, budget: ContextBudget, keep_tail_tokens: int = 4000,
                 summary_tokens: int = 128, tool_outputs_only: bool = False,
                 count_tokens: Callable[[str], int] = lambda s: len(s) // 4):
        super().__init__(budget)
        self.keep_tail_tokens, self.summary_tokens = keep_tail_tokens, summary_tokens
        self.tool_outputs_only, self.count_tokens = tool_outputs_only, count_tokens

    def _tail_start(self, messages) -> int:
        keep = self.keep_tail_tokens - self.commit_reserve(messages, self.count_tokens)
        return recent_start(messages, max(0, keep), self.count_tokens,
                            floor=leading_system(messages))

    async def transform(self, messages, strategy_data, llm) -> Transform:
        if llm is None:
            raise TransformError("summarize needs an LLM call")
        head, tail = leading_system(messages), self._tail_start(messages)
        older = messages[head:tail]
        if not older:
            return Transform(clone(messages), dict(strategy_data))
        try:
            if self.tool_outputs_only:
                out = clone(messages[:head])
                for m in older:
                    m = dict(m)
                    if is_tool_output(m):
                        m["content"] = "[summary] " + (await llm(
                            [{"role": "user", "content": m["content"]},
                             {"role": "user", "content": PROMPT}], self.summary_tokens)).strip()
                    out.append(m)
                return Transform(out + clone(messages[tail:]),
                                 {**strategy_data, "summaries": strategy_data.get("summaries", 0) + 1})
            text = await llm(clone(messages[:tail]) + [{"role": "user", "content": PROMPT}],
                             self.summary_tokens)
        except TransformError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of the summary call
            raise TransformError(f"summary request failed: {exc}") from exc
        summary = {"role": "user", "content": f"Summary of the earlier conversation: {text.strip()}"}
        return Transform(clone(messages[:head]) + [summary] + clone(messages[tail:]),
                         {**strategy_data, "summaries": strategy_data.get("summaries", 0) + 1})
