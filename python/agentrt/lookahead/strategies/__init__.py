"""Built-in lookahead strategies, by name (a registry, not an if/elif chain)."""
from agentrt.lookahead.strategies.clear_tool_results import ClearToolResults
from agentrt.lookahead.strategies.offload import Offload
from agentrt.lookahead.strategies.sliding_window import SlidingWindow
from agentrt.lookahead.strategies.subagent import SubAgent
from agentrt.lookahead.strategies.summarize import Summarize

STRATEGIES = {cls.name: cls for cls in (Offload, SlidingWindow, Summarize, ClearToolResults,
                                         SubAgent)}

__all__ = ["STRATEGIES", "ClearToolResults", "Offload", "SlidingWindow", "SubAgent", "Summarize"]
