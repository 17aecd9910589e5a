"""Online calibration of draft acceptance by match length (per request, learned as it decodes).

A draft node's conditional acceptance is estimated as ``cond * rate(m)``: ``cond`` is the
source's continuation frequency (``probs[i] / probs[parent]``) and ``rate(m)`` a correction
for nodes drafted after an m-token matched context (m counts the draft tokens above the node).

Rules of ``AcceptanceTracker``:
- match lengths fall into buckets with upper bounds ``BUCKETS`` (and one more for longer);
- ``observe(draft, committed)`` walks the draft along the tokens the step committed: at depth d
  (context m + d - 1) it adds the summed ``cond`` of the current node's listed children to that
  bucket's ``expected`` and 1 to its ``hits`` when one of them equals committed[d - 1], then
  moves into that child; it stops at the first miss, at a node without children, or when the
  committed tokens run out. The *uncut* draft is observed, so the rate keeps learning while
  the policy decodes plainly (the model's own token tells whether the first node was right);
- ``rate(m) = (hits_b + weight * h(m)) / (expected_b + weight)``: the prior
  ``h(m) = m / (m + match_half)`` weighted as ``weight`` expected tokens, moved toward the
  observed hits per expected token of m's bucket.
"""
from dataclasses import dataclass, field
from typing import Sequence

from agentrt.speculative.draft import Draft

BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
DEFAULT_MATCH_HALF = 2.5


def bucket(m: int) -> int:
    for i, hi in enumerate(BUCKETS):
        if m <= hi:
            return i
    return len(BUCKETS)


def prior(m: int, match_half: float) -> float:
    """``h(m)``: the prior acceptance of a node drafted after an m-token match."""
    return m / (m + match_half) if m > 0 else 0.0


def conditionals(draft: Draft) -> tuple[float, ...]:
    """Each node's probability given its parent was accepted."""
    return tuple(p if parent < 0 else (p / draft.probs[parent] if draft.probs[parent] else 0.0)
                 for p, parent in zip(draft.probs, draft.parents))


@dataclass
class AcceptanceTracker:
    """Hits and expected tokens per match bucket; ``observe`` mutates, ``rate`` reads."""
    match_half: float = DEFAULT_MATCH_HALF
    weight: float = 4.0
    hits: list[float] = field(default_factory=lambda: [0.0] * (len(BUCKETS) + 1))
    expected: list[float] = field(default_factory=lambda: [0.0] * (len(BUCKETS) + 1))

    def rate(self, m: int) -> float:
        b = bucket(m)
        return ((self.hits[b] + self.weight * prior(m, self.match_half))
                / (self.expected[b] + self.weight))

    def observe(self, draft: Draft, committed: Sequence[int]) -> None:
        cond = conditionals(draft)
        children: dict[int, list[int]] = {}
        for i, parent in enumerate(draft.parents):
            children.setdefault(parent, []).append(i)
        node = -1
        for depth, token in enumerate(committed, start=1):
            kids = children.get(node)
            if not kids:
                return
            b = bucket(draft.match_len + depth - 1)
            self.expected[b] += sum(cond[k] for k in kids)
            node = next((k for k in kids if draft.tokens[k] == token), -2)
            if node == -2:
                return
            self.hits[b] += 1.0
