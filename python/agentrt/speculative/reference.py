"""Naive reference for the drafter: brute-force scans of the whole sequence, for tests only.

Same rules as ``automaton.SuffixAutomaton.propose`` (read its module docstring), computed the
slow, obvious way: occurrences are found by comparing every window, and the draft tree is grown
with a plain list frontier instead of a heap. Quadratic or worse; keep inputs small.
"""
from typing import Sequence

from agentrt.speculative.draft import Draft


def occurrence_ends(seq: Sequence[int], pattern: Sequence[int]) -> list[int]:
    """End indices j with ``seq[j - len(pattern) + 1 : j + 1] == pattern`` (pattern non-empty)."""
    k = len(pattern)
    pattern = list(pattern)
    return [j for j in range(k - 1, len(seq)) if list(seq[j - k + 1:j + 1]) == pattern]


def longest_earlier_suffix(seq: Sequence[int]) -> int:
    """Largest m such that the last m tokens also end at some index < len(seq) - 1."""
    n = len(seq)
    best = 0
    for m in range(1, n):
        if any(j < n - 1 for j in occurrence_ends(seq, seq[n - m:])):
            best = m
    return best


def naive_children(seq: Sequence[int], context: Sequence[int], cap: int) -> list[tuple]:
    """(token, capped count, earliest end of context + token), best first."""
    found: dict[int, list[int]] = {}
    for j in occurrence_ends(seq, context):
        if j + 1 < len(seq):
            found.setdefault(seq[j + 1], []).append(j + 1)
    rows = [(t, min(len(ends), cap), min(ends)) for t, ends in found.items()]
    rows.sort(key=lambda r: (-r[1], -r[2]))
    return rows


def naive_propose(seq: Sequence[int], max_tokens: int, max_branches: int = 1,
                  branch_depth: int = 1, min_prob: float = 0.0, cap: int = 16) -> Draft:
    m = longest_earlier_suffix(seq)
    if m == 0:
        return Draft()
    match = list(seq[len(seq) - m:])
    support = min(len(occurrence_ends(seq, match)), cap) - 1
    tokens: list[int] = []
    parents: list[int] = []
    probs: list[float] = []
    frontier: list[tuple] = []  # (prob, order, token, parent, depth, context)
    order = 0

    def offer(context: list[int], parent: int, parent_prob: float, depth: int) -> None:
        nonlocal order
        rows = naive_children(seq, context, cap)
        total = sum(r[1] for r in rows)
        take = max_branches if depth - 1 < branch_depth else 1
        for token, count, _ in rows[:take]:
            prob = parent_prob * (count / total)
            if prob >= min_prob:
                order += 1
                frontier.append((prob, order, token, parent, depth, context + [token]))

    if max_tokens > 0:
        offer(match, -1, 1.0, 1)
    while frontier and len(tokens) < max_tokens:
        best = max(frontier, key=lambda f: (f[0], -f[1]))
        frontier.remove(best)
        prob, _, token, parent, depth, context = best
        tokens.append(token)
        parents.append(parent)
        probs.append(prob)
        if len(tokens) < max_tokens:
            offer(context, len(tokens) - 1, prob, depth + 1)
    return Draft(tuple(tokens), tuple(parents), tuple(probs), m, support,
                 "request" if tokens else "none")
