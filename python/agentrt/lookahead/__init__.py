"""The agent-side programming model: lookahead strategies and the runtime that runs them.

    from agentrt.lookahead import LookaheadRuntime, AgentrtClient, ClearToolResults, ContextBudget

Names resolve lazily (PEP 562): importing ``agentrt.lookahead.strategy`` does not import the
HTTP client.
"""
import importlib

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


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
