"""PreferDiscarded: wrap any SGLang EvictionStrategy so that discarded nodes go first.

Discarded nodes are remains of abandoned or superseded branches (and of old contexts replaced
by a commit) that could not be freed at once because a request was still reading them.
"""
from sglang.srt.mem_cache.evict_policy import EvictionStrategy


class PreferDiscarded(EvictionStrategy):
    def __init__(self, inner: EvictionStrategy, discarded: set[int]):
        self.inner = inner
        self.discarded = discarded

    def get_priority(self, node):
        """Overrides EvictionStrategy.get_priority: (0, ...) sorts before (1, ...)."""
        return (0 if node.id in self.discarded else 1, self.inner.get_priority(node))
