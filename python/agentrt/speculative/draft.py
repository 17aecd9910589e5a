"""Draft trees: what a drafter proposes and what a verifier reads.

A draft is a tree of candidate next tokens hanging off the last committed token (the *root*,
which is not part of the draft). Rules every producer keeps and every consumer may rely on:

- nodes are listed parents first: ``parents[i] < i``; ``parents[i] == -1`` marks a child of the
  root. So any prefix ``draft[:w]`` is itself a valid tree (``Draft.truncate``).
- ``probs[i]`` is the drafter's estimate that node i's whole path is accepted: the product of
  the conditional continuation frequencies along the path (1.0 when every earlier occurrence of
  the matched context continued the same way). It never increases from a parent to its child.
- ``match_len`` is the length of the context suffix the draft was matched on; ``support`` how
  many earlier occurrences of that suffix were seen (capped by the producer's count cap).
- a chain is the tree with ``parents[i] == i - 1``.

Greedy verification of a tree accepts the longest root path whose tokens equal the target
model's next tokens (``Draft.accepted``), then one more token comes from the model itself.
"""
from dataclasses import dataclass
from typing import Sequence

SOURCES = ("none", "request", "store")


@dataclass(frozen=True)
class Draft:
    tokens: tuple[int, ...] = ()
    parents: tuple[int, ...] = ()
    probs: tuple[float, ...] = ()
    match_len: int = 0
    support: int = 0
    source: str = "none"

    def __post_init__(self):
        if not len(self.tokens) == len(self.parents) == len(self.probs):
            raise ValueError("tokens, parents and probs must have the same length")
        if any(not -1 <= p < i for i, p in enumerate(self.parents)):
            raise ValueError(f"parents must precede their children: {self.parents}")
        if self.source not in SOURCES:
            raise ValueError(f"unknown draft source {self.source!r}")

    def __len__(self) -> int:
        return len(self.tokens)

    def truncate(self, width: int) -> "Draft":
        """The first ``width`` nodes (a valid tree, since parents come first)."""
        if width >= len(self.tokens):
            return self
        return Draft(self.tokens[:width], self.parents[:width], self.probs[:width],
                     self.match_len, self.support, self.source)

    def depths(self) -> tuple[int, ...]:
        """Depth of each node: 1 for children of the root."""
        out: list[int] = []
        for p in self.parents:
            out.append(1 if p < 0 else out[p] + 1)
        return tuple(out)

    def is_chain(self) -> bool:
        return all(p == i - 1 for i, p in enumerate(self.parents))

    def chain(self) -> tuple[int, ...]:
        """Tokens of the most likely root path: from each node, its first-listed child."""
        first_child: dict[int, int] = {}
        for i, p in enumerate(self.parents):
            first_child.setdefault(p, i)
        out, node = [], first_child.get(-1)
        while node is not None:
            out.append(self.tokens[node])
            node = first_child.get(node)
        return tuple(out)

    def ancestor_mask(self) -> list[list[bool]]:
        """``mask[i][j]``: node j is node i or one of its ancestors (what node i may attend to)."""
        n = len(self.tokens)
        mask = [[False] * n for _ in range(n)]
        for i, p in enumerate(self.parents):
            if p >= 0:
                mask[i][:p + 1] = mask[p][:p + 1]
            mask[i][i] = True
        return mask

    def accepted(self, truth: Sequence[int]) -> int:
        """Tokens greedy verification accepts when the model's next tokens are ``truth``.

        Walks from the root: at each level the first listed child whose token equals the next
        true token is taken; stops at the first level with none.
        """
        children: dict[int, dict[int, int]] = {}
        for i, (t, p) in enumerate(zip(self.tokens, self.parents)):
            children.setdefault(p, {}).setdefault(t, i)
        node, n = -1, 0
        for t in truth:
            node = children.get(node, {}).get(t, -2)
            if node == -2:
                break
            n += 1
        return n


EMPTY = Draft()
