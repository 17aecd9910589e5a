"""Cross-session store of finished requests' token sequences (bounded, LRU), proposing drafts.

Rules:
- ``put(key, tokens, group)`` stores one sequence under ``key`` (a request or session id),
  replacing what that key held; it becomes the most recently used. A sequence whose worst-case
  size (``cost``) exceeds the whole budget is not stored. After a put, least recently used
  sequences are evicted until ``bytes_used <= capacity_bytes``.
- An index maps every ``ngram`` consecutive tokens to where they end (sequence, index), at most
  ``max_postings`` per n-gram, newest kept.
- ``propose(context, group, ...)``: the context's last ``ngram`` tokens are looked up; each hit
  is extended backwards to its match length (at most ``max_match``) and scored by that length
  plus ``group_bonus`` when it belongs to the caller's ``group`` (same program / session group
  first, then others). Hits without a following token or shorter than ``min_match`` are
  skipped. The hits with the best score form the root (the draft's ``match_len``: the shortest
  match among them); the draft tree grows from them by ``expand.expand``: children are the
  tokens that followed the hits, counted (capped at ``count_cap``), ties broken by the most
  recently used sequence. Sequences a draft came from become most recently used.
- ``bytes_used`` is an estimate from counters (tokens, index postings, index keys, sequences)
  with per-item sizes measured on CPython 3.11 (``test_store`` checks it against tracemalloc).
"""
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from typing import Hashable, Sequence

from agentrt.speculative.draft import Draft
from agentrt.speculative.expand import Child, expand

TOKEN_BYTES = 4        # array('i')
POSTING_BYTES = 48     # an int object (sid << 32 | end) and its list slot
KEY_BYTES = 120       # dict slot + hashed key int + posting list header (amortised growth)
SEQUENCE_BYTES = 400   # entry object, array header, OrderedDict and sid map slots


@dataclass(frozen=True)
class StoreConfig:
    capacity_bytes: int = 64 << 20
    ngram: int = 3
    max_postings: int = 16
    max_match: int = 32
    group_bonus: int = 2
    count_cap: int = 16


@dataclass
class _Entry:
    sid: int
    tokens: array
    group: Hashable
    stamp: int


class SequenceStore:
    """Finished sequences by key, LRU-bounded; ``put``/``remove``/``propose`` mutate, no locks."""

    def __init__(self, config: StoreConfig = StoreConfig()):
        self.config = config
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._by_sid: dict[int, Hashable] = {}
        self._index: dict[int, list[int]] = {}
        self._next_sid = 0
        self._clock = 0
        self._tokens = 0
        self._postings = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    @property
    def num_tokens(self) -> int:
        return self._tokens

    @property
    def bytes_used(self) -> int:
        return (len(self._entries) * SEQUENCE_BYTES + self._tokens * TOKEN_BYTES
                + self._postings * POSTING_BYTES + len(self._index) * KEY_BYTES)

    @staticmethod
    def cost(num_tokens: int) -> int:
        """Upper bound of the bytes one sequence adds (every n-gram new)."""
        return SEQUENCE_BYTES + num_tokens * (TOKEN_BYTES + POSTING_BYTES + KEY_BYTES)

    def _keys(self, tokens: array) -> list[int]:
        g = self.config.ngram
        return [hash(tuple(tokens[i - g + 1:i + 1])) for i in range(g - 1, len(tokens))]

    def put(self, key: Hashable, tokens: Sequence[int], group: Hashable = None) -> bool:
        """Store ``tokens`` under ``key`` (see rules); False when too large to store."""
        self.remove(key)
        if self.cost(len(tokens)) > self.config.capacity_bytes:
            return False
        self._clock += 1
        entry = _Entry(self._next_sid, array("i", tokens), group, self._clock)
        self._next_sid += 1
        self._entries[key] = entry
        self._by_sid[entry.sid] = key
        self._tokens += len(entry.tokens)
        g, cap = self.config.ngram, self.config.max_postings
        for end, k in enumerate(self._keys(entry.tokens), start=g - 1):
            postings = self._index.get(k)
            if postings is None:
                self._index[k] = [entry.sid << 32 | end]
                self._postings += 1
            else:
                postings.append(entry.sid << 32 | end)
                if len(postings) > cap:
                    del postings[0]
                else:
                    self._postings += 1
        while self.bytes_used > self.config.capacity_bytes and len(self._entries) > 1:
            self.remove(next(iter(self._entries)))
            self.evictions += 1
        return True

    def remove(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        del self._by_sid[entry.sid]
        self._tokens -= len(entry.tokens)
        for k in set(self._keys(entry.tokens)):
            postings = self._index.get(k)
            if postings is None:
                continue
            kept = [p for p in postings if p >> 32 != entry.sid]
            self._postings -= len(postings) - len(kept)
            if kept:
                self._index[k] = kept
            else:
                del self._index[k]

    def _entry(self, sid: int) -> _Entry:
        return self._entries[self._by_sid[sid]]

    def _hits(self, context: Sequence[int], group: Hashable, min_match: int) -> list[tuple]:
        """(score, match length, sid, end) of every usable index hit of the context's tail."""
        g, limit = self.config.ngram, self.config.max_match
        if len(context) < max(g, min_match, 1):
            return []
        postings = self._index.get(hash(tuple(context[-g:])), ())
        hits = []
        for posting in postings:
            sid, end = posting >> 32, posting & 0xFFFFFFFF
            entry = self._entry(sid)
            toks = entry.tokens
            if end + 1 >= len(toks):
                continue
            m = 0
            while m < limit and m <= end and m < len(context) and toks[end - m] == context[-1 - m]:
                m += 1
            if m < max(g, min_match):
                continue
            bonus = self.config.group_bonus if group is not None and entry.group == group else 0
            hits.append((m + bonus, m, sid, end))
        return hits

    def children(self, node: tuple) -> list[Child]:
        """Continuations of a node (a tuple of (sid, index) occurrences), best first."""
        found: dict[int, list] = {}
        for sid, end in node:
            toks = self._entry(sid).tokens
            if end + 1 < len(toks):
                found.setdefault(toks[end + 1], []).append((sid, end + 1))
        cap = self.config.count_cap
        rows = [(min(len(occ), cap), max(self._entry(s).stamp for s, _ in occ), t, tuple(occ))
                for t, occ in found.items()]
        rows.sort(key=lambda r: (-r[0], -r[1]))
        return [Child(t, c, occ) for c, _, t, occ in rows]

    def propose(self, context: Sequence[int], group: Hashable = None, max_tokens: int = 8,
                max_branches: int = 1, branch_depth: int = 1, min_prob: float = 0.0,
                min_match: int = 1) -> Draft:
        """Draft continuing the best-scoring earlier occurrence of the context's tail."""
        hits = self._hits(context, group, min_match)
        if not hits:
            return Draft()
        best = max(h[0] for h in hits)
        root = tuple((sid, end) for score, _, sid, end in hits if score == best)
        match_len = min(m for score, m, _, _ in hits if score == best)
        grown = expand(root, self.children, max_tokens, max_branches, branch_depth, min_prob)
        if grown.tokens:
            for sid in sorted({sid for sid, _ in root}):
                self._touch(self._by_sid[sid])
        support = min(len(root), self.config.count_cap)
        return Draft(grown.tokens, grown.parents, grown.probs, match_len, support,
                     "store" if grown.tokens else "none")

    def _touch(self, key: Hashable) -> None:
        self._clock += 1
        self._entries[key].stamp = self._clock
        self._entries.move_to_end(key)
