"""Per-request suffix automaton (AgentSAM) over prompt + generated token ids.

The automaton of the sequence S (length n) is extended online, one token at a time, in
amortised O(1) (the classic construction: a new state per token, at most one clone). Each state
keeps its transitions, suffix link, longest length, ``first`` (the end index of its earliest
occurrence in S) and whether it is a clone; the suffix-link tree's children are kept too, so the
number of occurrences of a state's strings (its end positions: the non-clone states below it)
can be counted on demand, capped at ``count_cap`` (so a count costs O(count_cap)).

What ``propose`` returns (``reference.naive_propose`` is the same rule by brute force):
- ``match_len`` m: the length of the longest suffix of S that also ends at some index < n - 1
  (i.e. occurred earlier); no draft when m == 0;
- ``support``: min(occurrences of that suffix in S, count_cap) - 1, its earlier occurrences;
- the tree of continuations of that suffix, grown by ``expand.expand``: the children of a
  context x are the tokens c with x + c in S, counted min(occurrences of x + c, count_cap) and
  listed by count, then by the end index of the earliest occurrence of x + c, latest first
  (among equally frequent continuations, the one first seen most recently wins).

The transitions of S's automaton from the state of x are exactly the tokens that followed x
somewhere in S, so walking them extends the matched context by the proposed tokens.
"""
from typing import Iterable

from agentrt.speculative.draft import Draft
from agentrt.speculative.expand import Child, expand

DEFAULT_COUNT_CAP = 16


class SuffixAutomaton:
    """Suffix automaton of one token sequence; ``append`` / ``extend`` mutate it, nothing locks.

    Memory: two states per token at most, each a dict of transitions plus a few list slots.
    """

    __slots__ = ("tokens", "count_cap", "_next", "_link", "_len", "_first", "_clone", "_kids",
                 "_last")

    def __init__(self, tokens: Iterable[int] = (), count_cap: int = DEFAULT_COUNT_CAP):
        if count_cap < 1:
            raise ValueError("count_cap must be >= 1")
        self.tokens: list[int] = []
        self.count_cap = count_cap
        self._next: list[dict[int, int]] = [{}]
        self._link: list[int] = [-1]
        self._len: list[int] = [0]
        self._first: list[int] = [-1]
        self._clone: list[bool] = [True]  # the root stands for no end position
        self._kids: list[set[int] | None] = [None]
        self._last = 0
        self.extend(tokens)

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def num_states(self) -> int:
        return len(self._len)

    def _new_state(self, length: int, first: int, clone: bool, nxt: dict[int, int]) -> int:
        self._next.append(nxt)
        self._link.append(-1)
        self._len.append(length)
        self._first.append(first)
        self._clone.append(clone)
        self._kids.append(None)
        return len(self._len) - 1

    def _set_link(self, state: int, target: int) -> None:
        old = self._link[state]
        if old >= 0:
            self._kids[old].remove(state)
        self._link[state] = target
        kids = self._kids[target]
        if kids is None:
            self._kids[target] = {state}
        else:
            kids.add(state)

    def append(self, token: int) -> None:
        """Add one token at the end of the sequence (amortised O(1))."""
        nxt = self._next
        pos = len(self.tokens)
        self.tokens.append(token)
        cur = self._new_state(pos + 1, pos, False, {})
        p = self._last
        while p != -1 and token not in nxt[p]:
            nxt[p][token] = cur
            p = self._link[p]
        if p == -1:
            self._set_link(cur, 0)
        else:
            q = nxt[p][token]
            if self._len[p] + 1 == self._len[q]:
                self._set_link(cur, q)
            else:
                clone = self._new_state(self._len[p] + 1, self._first[q], True, dict(nxt[q]))
                self._set_link(clone, self._link[q])
                self._set_link(q, clone)
                while p != -1 and nxt[p].get(token) == q:
                    nxt[p][token] = clone
                    p = self._link[p]
                self._set_link(cur, clone)
        self._last = cur

    def extend(self, tokens: Iterable[int]) -> None:
        for t in tokens:
            self.append(t)

    def count(self, state: int) -> int:
        """Occurrences (end positions) of the state's strings, capped at ``count_cap``."""
        cap, clone, kids = self.count_cap, self._clone, self._kids
        n, stack = 0, [state]
        while stack:
            x = stack.pop()
            if not clone[x]:
                n += 1
                if n >= cap:
                    return cap
            k = kids[x]
            if k:
                stack.extend(k)
        return n

    def match_len(self) -> int:
        """Length of the longest suffix that occurred earlier (0 when none)."""
        return self._len[self._link[self._last]] if self._last else 0

    def children(self, state: int) -> list[Child]:
        """Continuations of the state's context, best first (see the module rules)."""
        items = self._next[state]
        if len(items) == 1:
            (token, q), = items.items()
            return [Child(token, 1, q)]
        first = self._first
        ranked = sorted(((self.count(q), first[q], t, q) for t, q in items.items()),
                        key=lambda r: (-r[0], -r[1]))
        return [Child(t, c, q) for c, _, t, q in ranked]

    def propose(self, max_tokens: int, max_branches: int = 1, branch_depth: int = 1,
                min_prob: float = 0.0) -> Draft:
        """Draft up to ``max_tokens`` tokens continuing the longest earlier-seen suffix."""
        m = self.match_len()
        if m == 0:
            return Draft()
        state = self._link[self._last]
        grown = expand(state, self.children, max_tokens, max_branches, branch_depth, min_prob)
        return Draft(grown.tokens, grown.parents, grown.probs, m, self.count(state) - 1,
                     "request" if grown.tokens else "none")
