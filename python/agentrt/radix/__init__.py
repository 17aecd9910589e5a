"""The patched RadixAttention tree: original and transformed context branches.

    from agentrt.radix import LookaheadRadixCache, LookaheadSettings, BranchState

Names resolve lazily (PEP 562): importing a pure module (``agentrt.radix.visualize`` for the
CLI, ``agentrt.radix.branch``) never imports SGLang; ``LookaheadRadixCache`` does.
"""
import importlib

_EXPORTS = {
    "LookaheadRadixCache": "cache", "prepare_rid": "rids", "parse_prepare_rid": "rids",
    "LookaheadSettings": "settings",
    "Branch": "branch", "BranchBook": "branch", "BranchState": "branch",
    "LookaheadError": "branch", "Session": "branch",
    "Pin": "pins",
    "ToolDurationStats": "ttl", "TtlConfig": "ttl",
    "IntegrityError": "integrity", "check_integrity": "integrity",
    "snapshot": "visualize", "match_node": "visualize", "to_text": "visualize",
    "to_dot": "visualize",
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
