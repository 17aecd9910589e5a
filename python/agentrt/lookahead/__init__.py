"""The agent-side programming model: lookahead strategies and the runtime that runs them.

    from agentrt.lookahead import LookaheadRuntime, AgentrtClient, ClearToolResults, ContextBudget

Names resolve lazily (PEP 562): importing ``agentrt.lookahead.strategy`` does not import the
HTTP client.
"""
from agentrt.lazy_exports import lazy_exports

_EXPORTS = {
    "LookaheadRuntime": "runtime", "CommitRecord": "records", "Outcome": "records",
    "JobState": "job",
    "SyncLookaheadRuntime": "sync_runtime",
    "AgentrtClient": "client",
    "LookaheadStrategy": "strategy", "ContextBudget": "strategy", "MainState": "strategy",
    "Transform": "strategy", "TransformError": "strategy", "LLMCall": "strategy",
    "Message": "strategy", "signature": "strategy",
    "STRATEGIES": "strategies", "ClearToolResults": "strategies", "Offload": "strategies",
    "SlidingWindow": "strategies", "SubAgent": "strategies", "Summarize": "strategies",
    "OffloadStore": "strategies.offload",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
