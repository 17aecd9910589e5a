"""What lookahead holds in the tree, and the budget on it (a mixin of LookaheadRadixCache).

Live branches hold their paths locked; pins hold sessions' contexts. ``held_tokens`` counts what
only lookahead holds: the union of the branches' paths less the nodes a session's current
context or a pin covers (the budget caps what lookahead adds to the foreground's memory, not the
shared prefixes). Over the budget, or under KV pressure, the oldest work is abandoned first.
"""
from sglang.srt.mem_cache.base_prefix_cache import MatchPrefixParams

from agentrt.radix.branch import BranchState


class LookaheadBudget:
    """Needs the host's ``book``, ``pins``, ``settings``, radix tree and ``_release_branch``."""

    _freed_by_last_release = 0

    @property
    def budget_tokens(self) -> int:
        pool = self.token_to_kv_pool_allocator.size if self.token_to_kv_pool_allocator else 0
        return self.settings.budget_for_pool(pool)

    def holders(self) -> list[tuple[str, object]]:
        found = [(f"branch {b.id}", b.node) for b in self.book.live_branches() if b.node]
        return found + [(f"pin {p.session_id}", p.node) for p in self.pins.values()]

    def _foreground_node_ids(self) -> set:
        """Ids of the nodes on a session's current context or a pin: foreground state, held
        whether or not lookahead runs."""
        ends = [p.node for p in self.pins.values()]
        for session in self.book.sessions.values():
            key = self._key(session.context)
            if len(key):
                ends.append(self.match_prefix(MatchPrefixParams(key=key)).last_device_node)
        ids = set()
        for node in ends:
            while node is not None and node is not self.root_node and node.id not in ids:
                ids.add(node.id)
                node = node.parent
        return ids

    def held_tokens(self) -> int:
        """Tokens that only lookahead holds (see the module docstring)."""
        seen = self._foreground_node_ids()
        total = 0
        for b in self.book.live_branches():
            node = b.node
            while node is not None and node is not self.root_node and node.id not in seen:
                seen.add(node.id)
                total += len(node.key)
                node = node.parent
        return total

    def enforce_budget(self) -> None:
        while self.held_tokens() > self.budget_tokens:
            if not self._abandon_oldest_work("over lookahead budget"):
                break

    def _abandon_oldest_work(self, reason: str, branches_only: bool = False) -> bool:
        """Release the oldest live branch, else the oldest pin. False when nothing is held."""
        before = self.token_to_kv_pool_allocator.available_size() \
            if self.token_to_kv_pool_allocator else 0
        live = self.book.live_branches()
        if live:
            self._release_branch(live[0], BranchState.ABANDONED, reason)
        elif self.pins and not branches_only:
            oldest = min(self.pins.values(), key=lambda p: p.started_at)
            self.unpin(oldest.session_id, reason)
        else:
            return False
        after = self.token_to_kv_pool_allocator.available_size() \
            if self.token_to_kv_pool_allocator else 0
        self._freed_by_last_release = after - before
        return True
