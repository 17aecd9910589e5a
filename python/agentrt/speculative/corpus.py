"""``DrafterCorpus``: the drafter pool behind the methods SGLang's n-gram worker calls.

SGLang 0.5.23's ``NGRAMWorker`` keeps ``self.ngram_corpus`` and calls, per verify step,
``synchronize()`` then ``batch_get(req_ids, batch_tokens, total_lens)`` (the last tokens of each
request, at most ``max_trie_depth``, and its full length) and, after verification,
``batch_put(batch_tokens)``; ``erase_match_state(req_ids)`` when requests leave, ``reset()``
when the cache is flushed. This class answers those calls (no SGLang import), so a worker
subclass can swap its corpus for it; the worker should also call ``start(rid, prompt, group,
session)`` with the full prompt when a request begins decoding and ``finish(rid)`` when it
ends, else the request drafts from the tail it is shown only.

Rules of ``batch_get``:
- a request's drafter is brought to ``total_len`` tokens: the tokens it has not seen are the
  last ``total_len - known`` of ``batch_tokens`` (observed as the previous step's committed
  tokens); when fewer are shown than missing, or the length went back, the drafter is rebuilt
  from the shown tail;
- it then proposes (``RequestDrafter.propose``: width policy applied) and the draft is packed
  by ``layout.pack`` with ``num_slots`` slots, the request's last token as the root;
- ``last_widths`` holds the widths chosen (0 = nothing worth verifying for that request).
``batch_get_adaptive`` is the same with the batch's slots cut to what its widest draft needs
(the worker then verifies fewer tokens per request when drafts are short or absent).
``batch_put`` and ``synchronize`` do nothing: the pool learns from ``batch_get``.
Step costs: the worker reports each decode step's batch, width and time (``observe_step``);
the widths of the next steps are chosen with the costs measured so far (``step_costs``).
"""
from typing import Hashable, Sequence

import numpy as np

from agentrt.speculative.drafter import DrafterConfig, DrafterPool
from agentrt.speculative.layout import batch_slots, pack_batch
from agentrt.speculative.step_costs import StepCostMeter
from agentrt.speculative.store import SequenceStore


class DrafterCorpus:
    """Duck-typed stand-in for SGLang's ``NgramCorpus`` over a ``DrafterPool``."""

    def __init__(self, num_slots: int, config: DrafterConfig = DrafterConfig(),
                 store: SequenceStore | None = None):
        if num_slots < 1:
            raise ValueError("num_slots must be >= 1")
        self.num_slots = num_slots
        self.pool = DrafterPool(config, store)
        self.step_costs = StepCostMeter(config.policy.cost)
        self.last_widths: list[int] = []
        self.rebuilds = 0

    def start(self, rid: Hashable, prompt: Sequence[int], group: Hashable = None,
              session: Hashable = None) -> None:
        self.pool.start(rid, prompt, group, session)

    def finish(self, rid: Hashable) -> None:
        if rid in self.pool:
            self.pool.finish(rid)

    def _sync(self, rid: Hashable, tail: Sequence[int], total_len: int) -> None:
        if rid not in self.pool:
            self.pool.start(rid, tail)
            return
        known = len(self.pool.drafter(rid).tokens)
        missing = total_len - known
        if 0 <= missing <= len(tail):
            if missing:
                self.pool.update(rid, list(tail[len(tail) - missing:]))
            return
        self.rebuilds += 1
        self.pool.erase([rid])
        self.pool.start(rid, tail)

    def follow(self, req_ids: Sequence[Hashable], batch_tokens: Sequence[Sequence[int]],
               total_lens: Sequence[int]) -> None:
        """Bring each request's drafter to ``total_len`` tokens without proposing (a step that
        decodes without drafts); same rules as ``batch_get``'s first half."""
        for rid, tail, total in zip(req_ids, batch_tokens, total_lens):
            if not tail:
                raise ValueError(f"request {rid!r}: empty token tail")
            self._sync(rid, tail, total)

    def _drafts(self, req_ids, batch_tokens, total_lens) -> list:
        self.follow(req_ids, batch_tokens, total_lens)
        proposals = self.pool.propose_batch(req_ids, self.step_costs.cost())
        self.last_widths = [p.width.width for p in proposals]
        return [p.draft for p in proposals]

    def batch_get(self, req_ids: Sequence[Hashable], batch_tokens: Sequence[Sequence[int]],
                  total_lens: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(tokens int64 [bs * n], mask bool [bs * n * n]) in SGLang's layout (module rules)."""
        drafts = self._drafts(req_ids, batch_tokens, total_lens)
        return pack_batch(drafts, [t[-1] for t in batch_tokens], self.num_slots)

    def batch_get_adaptive(self, req_ids: Sequence[Hashable],
                           batch_tokens: Sequence[Sequence[int]],
                           total_lens: Sequence[int]) -> tuple[np.ndarray, np.ndarray, int]:
        """``batch_get`` packed with only the slots this step needs: (tokens, mask, slots) with
        ``slots = layout.batch_slots`` (1 + the widest chosen draft, at most ``num_slots``);
        1 slot = no drafts at all (each request verifies its last token only)."""
        drafts = self._drafts(req_ids, batch_tokens, total_lens)
        slots = batch_slots(drafts, self.num_slots)
        tokens, mask = pack_batch(drafts, [t[-1] for t in batch_tokens], slots)
        return tokens, mask, slots

    def observe_step(self, batch: int, width: int, ms: float) -> None:
        """A decode step of ``batch`` requests verifying ``width`` drafts each took ``ms``."""
        self.step_costs.observe(batch, width, ms)

    def batch_put(self, batch_tokens: Sequence[Sequence[int]]) -> None:
        """Nothing to do: ``batch_get`` appends what each request committed."""

    def synchronize(self) -> None:
        """Nothing runs in the background."""

    def erase_match_state(self, req_ids: Sequence[Hashable]) -> None:
        """Requests left the batch: finish those that were started (their sequences are kept)."""
        for rid in req_ids:
            self.finish(rid)

    def reset(self) -> None:
        self.pool = DrafterPool(self.pool.config, SequenceStore(self.pool.store.config))
        self.last_widths = []
