"""The one tree-path walk: where a token sequence's path runs in the radix tree, read-only.

SGLang's ``match_prefix`` splits the node it stops inside and touches access times; this walk
changes nothing, so the budget, freeing and snapshots may call it at any time. No SGLang
import: it reads nodes (``children``, ``key``) and a page-aligned key (``child_key``, ``match``,
slicing), built by the caller (``LookaheadRadixCache.page_key``).

    tokens:   [ a b c | d e f | g h ]        (page size 1; key = page-aligned tokens)
    tree:     root -> [a b c] -> [d e f x y]
    walk:     nodes = ([a b c],)   partial = [d e f x y]   partial_tokens = 3   matched = 6
"""
from typing import Any, NamedTuple, Optional


class PathWalk(NamedTuple):
    nodes: tuple                  # nodes the key covers entirely, from the root's child down
    partial: Optional[Any]        # the node the walk stopped inside (None: at a node boundary)
    partial_tokens: int           # tokens of ``partial`` that the key covers
    requested: int                # length of the key walked

    @property
    def matched(self) -> int:
        """Tokens of the key that the tree holds (a partial node's covered part included)."""
        return sum(len(n.key) for n in self.nodes) + self.partial_tokens

    @property
    def end(self) -> Optional[Any]:
        """The node where the whole key ends exactly; None when the tree does not hold it all
        (or the key is empty)."""
        if self.partial is None and self.nodes and self.matched == self.requested:
            return self.nodes[-1]
        return None


def walk_path(root, key, page_size: int) -> PathWalk:
    """Follow ``key`` down from ``root`` as far as the tree holds it; mutates nothing."""
    node, nodes, requested = root, [], len(key)
    while len(key):
        child = node.children.get(key.child_key(page_size))
        if child is None:
            break
        n = child.key.match(key, page_size=page_size)
        if n == 0:
            break
        if n < len(child.key):
            return PathWalk(tuple(nodes), child, n, requested)
        nodes.append(child)
        node, key = child, key[n:]
    return PathWalk(tuple(nodes), None, 0, requested)
