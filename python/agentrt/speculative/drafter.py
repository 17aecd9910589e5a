"""Drafters: one request's automaton + the shared store + the width policy, and a batch pool.

Rules of ``RequestDrafter.propose``:
- the request's own automaton drafts first (match length m);
- the store is consulted only when m < ``store_below`` and drafts only from a hit matching
  more than m tokens (``min_match = m + 1``); its draft then replaces the request's;
- the width policy cuts the chosen draft to its first ``width`` nodes (``propose``: the
  width rule, one request; ``DrafterPool.propose_batch``: the batch rule, one common width
  for a decode batch); width 0 means decode without drafts this step. With ``calibrate`` its acceptance rates come
  from the drafter's ``AcceptanceTracker``: ``extend`` right after ``propose`` is taken as the
  step's committed tokens and observed against the uncut draft.

``DrafterPool`` is the interface the speculative worker calls (a later step registers it in
SGLang): ``start`` when a request enters decoding, ``update`` with the tokens each verify step
committed (accepted drafts plus the model's own token), ``propose_batch`` before each verify
step, ``finish`` when a request ends (its sequence goes to the store, its automaton is kept
for the session's next turn), ``erase`` for aborted requests. A session's next request reuses
the kept automaton when its prompt extends the automaton's tokens, else a new one is built.
Memory: a CPython automaton takes ~0.7 KB per token, so ``max_sessions`` kept sessions of 7k
tokens hold ~5 MB each (the C++ core planned in sgl-kernel-ext is the way to scale this).
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Hashable, Iterable, NamedTuple, Sequence

from agentrt.speculative.automaton import DEFAULT_COUNT_CAP, SuffixAutomaton
from agentrt.speculative.calibration import AcceptanceTracker
from agentrt.speculative.draft import Draft
from agentrt.speculative.policy import (StepCost, Width, WidthPolicy, choose_batch_width,
                                        choose_width, estimates)
from agentrt.speculative.store import SequenceStore


@dataclass(frozen=True)
class DrafterConfig:
    max_tokens: int = 8          # draft nodes grown before the policy cuts (>= policy width)
    max_branches: int = 1        # 1: a chain; b: top-b branches while depth < branch_depth
    branch_depth: int = 1
    min_prob: float = 0.0
    count_cap: int = DEFAULT_COUNT_CAP
    use_store: bool = True
    store_below: int = 32        # consult the store while the request's match is shorter
    calibrate: bool = True       # learn acceptance rates per request (calibration.py)
    policy: WidthPolicy = field(default_factory=WidthPolicy)


class Proposal(NamedTuple):
    draft: Draft                 # cut to ``width.width`` nodes
    width: Width
    full: Draft                  # the draft before the cut (for statistics)


class RequestDrafter:
    """Drafts for one request; ``extend`` mutates its automaton, the store is shared."""

    def __init__(self, tokens: Iterable[int] = (), group: Hashable = None,
                 store: SequenceStore | None = None, config: DrafterConfig = DrafterConfig()):
        self.config = config
        self.group = group
        self.store = store
        self.automaton = SuffixAutomaton(tokens, count_cap=config.count_cap)
        self.tracker = AcceptanceTracker(match_half=config.policy.match_half)
        self._pending: Draft | None = None

    @property
    def tokens(self) -> list[int]:
        return self.automaton.tokens

    def extend(self, tokens: Sequence[int]) -> None:
        """Append tokens; right after ``propose`` they are that step's committed tokens."""
        if self._pending is not None:
            self.tracker.observe(self._pending, tokens)
            self._pending = None
        self.automaton.extend(tokens)

    def drop_pending(self) -> None:
        """The last proposal was never verified (the request ended): learn nothing from it."""
        self._pending = None

    def draft(self) -> Draft:
        """The uncut draft: the request's own, or the store's when it matches longer."""
        cfg = self.config
        own = self.automaton.propose(cfg.max_tokens, cfg.max_branches, cfg.branch_depth,
                                     cfg.min_prob)
        if (cfg.use_store and self.store is not None and own.match_len < cfg.store_below
                and len(self.store)):
            context = self.tokens[-self.store.config.max_match:]
            other = self.store.propose(context, self.group, cfg.max_tokens, cfg.max_branches,
                                       cfg.branch_depth, cfg.min_prob, own.match_len + 1)
            if len(other):
                return other
        return own

    def estimate(self) -> tuple[Draft, tuple[float, ...]]:
        """The uncut draft and its acceptance estimates (``policy.estimates``); the draft is
        what the next ``extend`` is observed against."""
        full = self.draft()
        rate = self.tracker.rate if self.config.calibrate else None
        self._pending = full if len(full) else None
        return full, estimates(full, self.config.policy, rate)

    def propose(self) -> Proposal:
        """This request alone (a batch of one): the policy's width rule cuts the draft."""
        full, accept = self.estimate()
        width = choose_width(accept, self.config.policy)
        return Proposal(full.truncate(width.width), width, full)


class DrafterPool:
    """Per-request drafters of a running batch plus kept session automata (LRU-bounded)."""

    def __init__(self, config: DrafterConfig = DrafterConfig(),
                 store: SequenceStore | None = None, max_sessions: int = 64):
        self.config = config
        self.store = store if store is not None else SequenceStore()
        self.max_sessions = max_sessions
        self._active: dict[Hashable, tuple[RequestDrafter, Hashable]] = {}
        self._sessions: OrderedDict[Hashable, RequestDrafter] = OrderedDict()

    def __contains__(self, rid: Hashable) -> bool:
        return rid in self._active

    def start(self, rid: Hashable, prompt: Sequence[int], group: Hashable = None,
              session: Hashable = None) -> RequestDrafter:
        """Begin drafting for ``rid``; reuses ``session``'s automaton when the prompt extends it."""
        drafter = self._sessions.pop(session, None) if session is not None else None
        if drafter is not None:
            known = drafter.tokens
            if len(prompt) >= len(known) and list(prompt[:len(known)]) == known:
                drafter.extend(prompt[len(known):])
                drafter.group = group
            else:
                drafter = None
        if drafter is None:
            drafter = RequestDrafter(prompt, group, self.store, self.config)
        self._active[rid] = (drafter, session)
        return drafter

    def drafter(self, rid: Hashable) -> RequestDrafter:
        return self._active[rid][0]

    def update(self, rid: Hashable, committed: Sequence[int]) -> None:
        self._active[rid][0].extend(committed)

    def propose_batch(self, rids: Sequence[Hashable],
                      cost: StepCost | None = None) -> list[Proposal]:
        """One decode step's drafts: a common width for the batch (``choose_batch_width``,
        with the measured ``cost`` when given), each request's draft cut to it; its ``Width``
        holds its own expected tokens and the batch's predicted speed-up. A batch of one gets
        what ``propose`` gives (with the same costs)."""
        drafts = [self._active[rid][0].estimate() for rid in rids]
        common = choose_batch_width([a for _, a in drafts], self.config.policy, cost)
        out = []
        for full, accept in drafts:
            w = min(common.width, len(full))
            width = Width(w, sum(accept[:w]), common.predicted_speedup) if w else Width(
                0, 0.0, common.predicted_speedup)
            out.append(Proposal(full.truncate(w), width, full))
        return out

    def finish(self, rid: Hashable) -> None:
        """The request ended: store its sequence, keep its automaton for its session."""
        drafter, session = self._active.pop(rid)
        drafter.drop_pending()
        self.store.put(session if session is not None else rid, drafter.tokens, drafter.group)
        if session is not None:
            self._sessions[session] = drafter
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)

    def erase(self, rids: Iterable[Hashable]) -> None:
        """Forget aborted requests without storing them."""
        for rid in rids:
            self._active.pop(rid, None)
