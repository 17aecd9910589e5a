"""Best-first growth of a draft tree from a matched context (shared by every drafter source).

A source (the per-request automaton, the cross-session store) describes the continuations it
has seen as a ``children(node)`` function: the tokens that followed the node's context, each
with how often it followed (``count``, already capped by the source) and the node that context
plus that token leads to, listed best first (the source's own tie-break).

Rules of ``expand``:
- a child's probability is ``parent_prob * (count / total)`` where ``total`` sums the counts of
  *all* children of the parent (the root's probability is 1.0);
- a node at depth d (the root is depth 0) offers its first ``max_branches`` children while
  d < ``branch_depth``, else only its first child; children under ``min_prob`` are dropped;
- the frontier is taken by probability, highest first, ties in the order nodes were offered;
  each taken node is appended to the draft (so parents precede children), until ``max_tokens``.
``children`` is called once per taken node, only when its children are needed.
"""
import heapq
from typing import Callable, Hashable, NamedTuple


class Child(NamedTuple):
    token: int
    count: int
    node: Hashable


ChildrenFn = Callable[[Hashable], list[Child]]


class Grown(NamedTuple):
    tokens: tuple[int, ...]
    parents: tuple[int, ...]
    probs: tuple[float, ...]


def _offer(frontier: list, seq: list, children: list[Child], parent: int, parent_prob: float,
           depth: int, take: int, min_prob: float) -> None:
    total = sum(c.count for c in children)
    for child in children[:take]:
        prob = parent_prob * (child.count / total)
        if prob < min_prob:
            continue
        seq[0] += 1
        heapq.heappush(frontier, (-prob, seq[0], child.token, parent, depth, child.node))


def expand(root: Hashable, children: ChildrenFn, max_tokens: int, max_branches: int = 1,
           branch_depth: int = 1, min_prob: float = 0.0) -> Grown:
    """Grow the draft tree below ``root`` (see the module rules); returns parents-first lists."""
    tokens: list[int] = []
    parents: list[int] = []
    probs: list[float] = []
    if max_tokens <= 0:
        return Grown((), (), ())
    frontier: list = []
    seq = [0]
    take = max_branches if branch_depth > 0 else 1
    _offer(frontier, seq, children(root), -1, 1.0, 1, take, min_prob)
    while frontier and len(tokens) < max_tokens:
        neg_prob, _, token, parent, depth, node = heapq.heappop(frontier)
        index = len(tokens)
        tokens.append(token)
        parents.append(parent)
        probs.append(-neg_prob)
        if len(tokens) < max_tokens:
            kids = children(node)
            if kids:
                take = max_branches if depth < branch_depth else 1
                _offer(frontier, seq, kids, index, -neg_prob, depth + 1, take, min_prob)
    return Grown(tuple(tokens), tuple(parents), tuple(probs))
