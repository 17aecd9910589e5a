"""The patched RadixAttention tree: original and transformed context branches.

    from agentrt.radix import LookaheadRadixCache, LookaheadSettings, BranchState

Names resolve lazily (PEP 562): importing a pure module (``agentrt.radix.visualize`` for the
CLI, ``agentrt.radix.branch``) never imports SGLang; ``LookaheadRadixCache`` does.
"""
from agentrt.lazy_exports import lazy_exports

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
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
