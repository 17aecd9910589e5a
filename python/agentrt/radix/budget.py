"""LookaheadBudget: what only lookahead holds in the tree, and which work yields first.

Live branches hold their paths locked; pins hold sessions' contexts. ``held_tokens`` counts what
only lookahead holds: the union of the branches' paths less what a session's current context or
a pin covers (the budget caps what lookahead adds to the foreground's memory, not the shared
prefixes). Over the budget, or under KV pressure, the oldest work yields first: the oldest live
branch, then the oldest pin.

Reads: the book's sessions and live branches, the pins, the tree through the read-only walk
(paths.py). Mutates nothing: LookaheadRadixCache releases what ``oldest_work`` names.
"""
from typing import Callable, Optional, Union

from agentrt.radix.branch import Branch, BranchBook
from agentrt.radix.paths import PathWalk
from agentrt.radix.pins import Pin
from agentrt.radix.settings import LookaheadSettings


class LookaheadBudget:
    def __init__(self, settings: LookaheadSettings, book: BranchBook, pins: dict[str, Pin]):
        self.settings, self.book, self.pins = settings, book, pins

    def limit(self, pool_tokens: int) -> int:
        """Tokens lookahead may hold in a KV pool of ``pool_tokens``."""
        return self.settings.budget_for_pool(pool_tokens)

    def holders(self) -> list[tuple[str, object]]:
        """Every lock lookahead holds: (holder, node), live branches then pins."""
        found = [(f"branch {b.id}", b.node) for b in self.book.live_branches() if b.node]
        return found + [(f"pin {p.session_id}", p.node) for p in self.pins.values()]

    def held_tokens(self, root, walk: Callable[[list[int]], PathWalk]) -> int:
        """Tokens that only lookahead holds (see the module docstring). A session context that
        ends inside a node covers that node's first tokens only (no node is split to say so)."""
        covered, partly = self._foreground(root, walk)
        total = 0
        for b in self.book.live_branches():
            node = b.node
            while node is not None and node is not root and node.id not in covered:
                covered.add(node.id)
                total += len(node.key) - partly.get(node.id, 0)
                node = node.parent
        return total

    def _foreground(self, root, walk) -> tuple[set, dict]:
        """Ids of the nodes a session's current context or a pin covers entirely, and the
        covered token count of nodes a context ends inside: foreground state, held whether
        or not lookahead runs."""
        ends, partly = [p.node for p in self.pins.values()], {}
        for session in self.book.sessions.values():
            path = walk(session.context)
            ends += path.nodes[-1:]
            if path.partial is not None:
                node_id = path.partial.id
                partly[node_id] = max(partly.get(node_id, 0), path.partial_tokens)
        covered = set()
        for node in ends:
            while node is not None and node is not root and node.id not in covered:
                covered.add(node.id)
                node = node.parent
        return covered, partly

    def oldest_work(self, branches_only: bool = False) -> Optional[Union[Branch, Pin]]:
        """What yields first: the oldest live branch, else (unless ``branches_only``) the
        oldest pin; None when lookahead holds nothing."""
        live = self.book.live_branches()
        if live:
            return live[0]
        if self.pins and not branches_only:
            return min(self.pins.values(), key=lambda p: p.started_at)
        return None
