"""SGLang glue for the lookahead-aware scheduler (decisions live in policy.py, pure).

Hooks (installed by launch/plugin.py in the scheduler process):
- AROUND ``SchedulePolicy.calc_priority``: after SGLang's own sort, re-order the waiting queue
  with ``scheduler.order_waiting`` (promoted > foreground by program policy > background).
- AFTER ``Scheduler.get_prefill_adder_class``: a subclass of SGLang's PrefillAdder whose
  ``add_one_req`` asks ``scheduler.admit_background`` before admitting a background request and
  caps its prefill chunk. A denied background request stops the batch's admission (everything
  after it in the queue is background too). Its ``add_chunked_req`` asks
  ``scheduler.continue_background`` for the background request SGLang is chunking: the next
  chunk, the minimum one while it yields to foreground work.
  While foreground requests decode, the first foreground (or promoted) request of a batch
  bounds the batch's prefill budget to ``decode_bounded_tokens`` at its context position.
- AROUND ``Scheduler._should_defer_prefill``: SGLang's own prefill/decode interleaving point,
  where a step may decode while a chunked request waits (no chunk is counted in flight, unlike
  an empty chunk). Defers while ``scheduler.pause_background_chunk`` says the chunked
  background prefill must let foreground requests decode, and after every prefill step while
  foreground requests decode (``decode_first``).
- AROUND ``Scheduler.get_new_batch_prefill``: preempts (aborts through SGLang's chunked-abort
  path) a chunked background prefill when a foreground request found no KV room or could not be
  chunked beside it (``scheduler.should_preempt``).

A request is background when its rid names a branch prefill (``agentrt-prepare:``) or its
priority is at or below agent_fields.BACKGROUND_PRIORITY; it is promoted while a commit waits on
its branch (``LookaheadRadixCache.promoted``).
"""
import functools
import time
from functools import lru_cache

from agentrt.radix.cache import LookaheadRadixCache
from agentrt.radix.rids import parse_prepare_rid
from agentrt.server.http.agent_fields import BACKGROUND_PRIORITY
from agentrt.server.scheduling.policy import (BgPolicy, ReqClass, ReqView, Snapshot,
                                              admit_background, continue_background,
                                              decode_bounded_tokens, decode_first,
                                              order_waiting, pause_background_chunk,
                                              promoted_chunk, should_preempt)
from agentrt.server.scheduling.stats import STATS
from agentrt.server.scheduling.sglang_objects import check


class _State:
    policy = BgPolicy()
    fg_blocked = False       # a foreground request found no KV room, or had to wait for a
                             # chunked request, in the batch being formed
    waiting: list = []       # the scheduler's waiting queue while that batch is formed (SGLang
                             # adds the chunked request first, before any waiting request)


def configure(policy: BgPolicy) -> None:
    _State.policy = policy


def background_policy() -> BgPolicy:
    return _State.policy


def promoted_of(tree) -> set:
    """The branches in the fast lane (none unless the tree is agentrt's)."""
    return tree.promoted if isinstance(tree, LookaheadRadixCache) else set()


def req_class(req, tree) -> ReqClass:
    branch = parse_prepare_rid(req.rid)
    if branch is not None and branch in promoted_of(tree):
        return ReqClass.PROMOTED
    priority = req.priority
    if branch is not None or (priority is not None and priority <= BACKGROUND_PRIORITY):
        return ReqClass.BACKGROUND
    return ReqClass.FOREGROUND


def _arrival(req) -> float:
    """When the request entered the waiting queue (else was created); 0: not recorded."""
    stats = req.time_stats
    if stats is None:
        return 0.0
    return float(stats.wait_queue_entry_time or stats.created_time or 0.0)


def aged(req, policy: BgPolicy) -> bool:
    """``policy.aged`` for an SGLang request (one whose arrival SGLang did not record is not)."""
    arrival = _arrival(req)
    return arrival > 0 and policy.aged(arrival, time.perf_counter())


def kv_snapshot(tree, waiting, running_reqs, batch_reqs=()) -> Snapshot:
    """``running_reqs``: SGLang's running (decoding) batch; ``batch_reqs``: the prefill batch
    being formed."""
    allocator = tree.token_to_kv_pool_allocator
    total = allocator.size
    used = total - allocator.available_size() - tree.evictable_size()
    fg = sum(1 for r in waiting if req_class(r, tree) is not ReqClass.BACKGROUND)
    classes = [req_class(r, tree) for r in list(running_reqs) + list(batch_reqs)]
    bg = sum(1 for c in classes if c is ReqClass.BACKGROUND)
    fg_running = sum(1 for r in running_reqs
                     if req_class(r, tree) is not ReqClass.BACKGROUND and not r.finished())
    fg_batch = sum(1 for r in batch_reqs if req_class(r, tree) is not ReqClass.BACKGROUND)
    return Snapshot(time.perf_counter(), max(0, used), total, fg, bg, STATS.last_step_ms,
                    fg_running, fg_batch, STATS.decode_step_ms, STATS.prefill_ms_per_token,
                    STATS.last_step_prefill_only)


def at_position(snap: Snapshot, req, policy: BgPolicy) -> Snapshot:
    """``snap`` with the prefill cost per token of ``req``'s next chunk at its context position
    (the fitted step cost less its fixed part, prefill_cost.py; unchanged without a fit): deep
    in a long context a token costs several times the average, so the chunk's time bound
    (``max_chunk_ms``: what a chunk adds to its step, the longest a decoding request waits
    behind it beyond a step) holds there too."""
    rate = STATS.prefill_cost.ms_per_token_at(req.prefix_len, policy.chunk_tokens)
    return snap if not rate else snap._replace(prefill_ms_per_token=rate)


def _views(waiting, tree) -> list[ReqView]:
    pinned = set(tree.pins) if isinstance(tree, LookaheadRadixCache) else set()
    first_seen: dict[str, float] = {}
    views = []
    for i, req in enumerate(waiting):
        program = req.session_id
        arrival = _arrival(req)
        if program is not None:
            first_seen[program] = min(first_seen.get(program, arrival), arrival)
        cached = req.prefix_len
        uncached = max(0, len(req.origin_input_ids) - cached)
        views.append(ReqView(i, req_class(req, tree), arrival, program, 0.0,
                             program in pinned, uncached, cached))
    return [v._replace(program_arrival_s=first_seen.get(v.program, v.arrival_s)) for v in views]


def around_calc_priority(original, policy_self, waiting_queue, *args, **kwargs):
    """AROUND hook on SchedulePolicy.calc_priority (sorts ``waiting_queue`` in place)."""
    result = original(policy_self, waiting_queue, *args, **kwargs)
    tree = policy_self.tree_cache
    if tree is None or len(waiting_queue) < 2:
        return result
    running = kwargs.get("running_batch", args[0] if args else None)
    snap = kv_snapshot(tree, waiting_queue, running.reqs if running is not None else [])
    order = order_waiting(_views(waiting_queue, tree), snap, _State.policy)
    if order != sorted(order):
        STATS.reorders += 1
        waiting_queue[:] = [waiting_queue[i] for i in order]
    return result


def _add_req_result():
    from sglang.srt.managers.schedule_policy import AddReqResult

    return AddReqResult


class LookaheadAdmission:
    """Overrides of SGLang's PrefillAdder (combined with the adder class SGLang picks by
    ``lookahead_adder``): background admission control and chunk caps. Each override calls the
    adder's own method through ``super()`` for the request it lets in."""

    _checked = False    # the first adder is checked against sglang_objects.ATTRIBUTES
    _step_bounded = False   # this batch's prefill budget was bounded for decoding requests

    def _snapshot(self, req=None):
        """The scheduler's state; with ``req``, priced at that request's position."""
        running = list(self.running_batch.reqs) if self.running_batch is not None else []
        snap = kv_snapshot(self.tree_cache, _State.waiting, running, self.can_run_list)
        return snap if req is None else at_position(snap, req, _State.policy)

    def _chunking(self, args, kwargs) -> bool:
        """A request is mid-chunk in this batch (SGLang tracks only one at a time)."""
        has = kwargs.get("has_chunked_req", args[0] if args else False)
        return bool(has) or self.new_chunked_req is not None

    @staticmethod
    def _would_chunk(req, limit) -> bool:
        need = len(req.full_untruncated_fill_ids) - req.prefix_len
        return limit is not None and need > limit

    def _with_chunk_cap(self, req, cap: int, call):
        """Run ``call`` with the chunk budget capped at ``cap`` for this request only; the
        rest of the step's chunk budget stays for requests that fit whole."""
        saved = self.rem_chunk_tokens
        limit = cap if saved is None else min(saved, cap)
        self.rem_chunk_tokens = limit
        try:
            return call()
        finally:
            left = self.rem_chunk_tokens if self.rem_chunk_tokens is not None else limit
            self.rem_chunk_tokens = None if saved is None else saved - (limit - left)
            STATS.admitted(limit - left)

    def _bound_step(self, req) -> None:
        """While foreground requests decode, this batch's prefill budget is what
        ``fg_max_chunk_ms`` allows at ``req``'s context position; the first foreground or
        promoted request of the batch sets it, once. With the bound off (the default) it
        costs nothing: no snapshot, no refit of the step cost."""
        policy = _State.policy
        if self._step_bounded or policy.fg_max_chunk_ms <= 0:
            return
        self._step_bounded = True
        tokens = decode_bounded_tokens(
            self._snapshot(), policy,
            STATS.prefill_cost.tokens_within(req.prefix_len, policy.fg_max_chunk_ms))
        if tokens is not None:
            rem = self.rem_chunk_tokens
            self.rem_chunk_tokens = tokens if rem is None else min(tokens, rem)

    def add_one_req(self, req, *args, **kwargs):
        """Overrides PrefillAdder.add_one_req: gate and chunk background requests; never a
        second chunked request in one batch."""
        if not LookaheadAdmission._checked:
            check("PrefillAdder", self)
            LookaheadAdmission._checked = True
        chunking = self._chunking(args, kwargs)
        add = functools.partial(super().add_one_req, req, *args, **kwargs)
        cls = req_class(req, self.tree_cache)
        if cls is ReqClass.BACKGROUND:
            return self._add_background(req, chunking, add)
        return self._add_foreground(req, cls, chunking, add)

    def _add_foreground(self, req, cls: ReqClass, chunking: bool, add):
        """A foreground or promoted request (a promoted one in chunks of ``promoted_chunk``)."""
        cap = promoted_chunk(self._snapshot(), _State.policy) \
            if cls is ReqClass.PROMOTED else None
        limit = self.rem_chunk_tokens if cap is None or self.rem_chunk_tokens is None \
            else min(cap, self.rem_chunk_tokens)
        if chunking and self._would_chunk(req, limit):
            _State.fg_blocked = True   # waits for the chunked request (or preempts it)
            return _add_req_result().OTHER
        if not chunking:               # beside a chunked background request: whole, as before
            self._bound_step(req)
        if cap is not None:
            return self._with_chunk_cap(req, cap, add)
        result = add()
        if result == _add_req_result().NO_TOKEN:
            _State.fg_blocked = True
            STATS.fg_kv_blocked += 1
        return result

    def _add_background(self, req, chunking: bool, add):
        decision = admit_background(self._snapshot(req), _State.policy,
                                    aged(req, _State.policy))
        if decision.admit and chunking and self._would_chunk(
                req, min(decision.max_tokens, self.rem_chunk_tokens or decision.max_tokens)):
            decision = decision._replace(admit=False, reason="another request is mid-chunk")
        if not decision.admit:
            STATS.denied(decision.reason)
            return _add_req_result().OTHER
        STATS.bg_admitted += 1
        return self._with_chunk_cap(req, decision.max_tokens, add)

    def add_chunked_req(self, req):
        """Overrides PrefillAdder.add_chunked_req: the background request SGLang is chunking
        gets its next chunk, the minimum one while foreground requests decode; a foreground or
        promoted one its decode-bounded chunk."""
        add = functools.partial(super().add_chunked_req, req)
        cls = req_class(req, self.tree_cache)
        if cls is not ReqClass.BACKGROUND:
            self._bound_step(req)
        if cls is ReqClass.PROMOTED:
            cap = promoted_chunk(self._snapshot(), _State.policy)
            if cap is not None:
                return self._with_chunk_cap(req, cap, add)
        if cls is not ReqClass.BACKGROUND:
            return add()
        decision = continue_background(self._snapshot(req), _State.policy,
                                       aged(req, _State.policy))
        if decision.reason.startswith("yielding"):
            STATS.bg_throttled += 1
        return self._with_chunk_cap(req, decision.max_tokens, add)


@lru_cache(maxsize=None)
def lookahead_adder(base: type) -> type:
    """A subclass of SGLang's prefill adder class ``base`` with LookaheadAdmission's overrides."""
    return type("LookaheadPrefillAdder", (LookaheadAdmission, base), {})


PROMOTED_PRIORITY = 100   # above every foreground request: a commit is waiting on it


def boost_promoted(scheduler) -> int:
    """Give queued and running requests of promoted branches the top SGLang priority, so SGLang's
    own priority sort and preemption treat them as the fast lane. Returns how many changed."""
    tree = scheduler.tree_cache
    if not promoted_of(tree):
        return 0
    reqs = list(scheduler.waiting_queue) + list(scheduler.running_batch.reqs)
    chunked = scheduler.chunked_req
    reqs += [chunked] if chunked is not None else []
    changed = 0
    for req in reqs:
        if req_class(req, tree) is ReqClass.PROMOTED and req.priority != PROMOTED_PRIORITY:
            req.priority = PROMOTED_PRIORITY
            changed += 1
    return changed


def around_get_new_batch_prefill(original, scheduler, *args, **kwargs):
    """AROUND hook on Scheduler.get_new_batch_prefill: preempts the chunked background prefill
    when a foreground request of this batch found no room or could not be chunked beside it."""
    _State.fg_blocked = False
    _State.waiting = scheduler.waiting_queue
    try:
        result = original(scheduler, *args, **kwargs)
    finally:
        _State.waiting = []
    chunked, tree = scheduler.chunked_req, scheduler.tree_cache
    if chunked is not None and tree is not None and should_preempt(
            _State.fg_blocked, req_class(chunked, tree) is not ReqClass.FOREGROUND,
            req_class(chunked, tree) is ReqClass.PROMOTED, aged(chunked, _State.policy)) \
            and scheduler._pending_chunked_abort_req is not chunked:
        # SGLang aborts a chunked prefill at the top of its next step (a chunk already
        # launched is drained first); the branch is then abandoned by its prefill task
        from sglang.srt.managers.io_struct import AbortReq

        scheduler.abort_request(AbortReq(rid=chunked.rid))
        STATS.bg_preempted += 1
    return result


def around_should_defer_prefill(original, scheduler, running_batch, *args, **kwargs):
    """AROUND hook on Scheduler._should_defer_prefill: decode instead of running the next chunk
    of a background prefill while foreground requests decode, and decode after every prefill
    step while they do (``decode_first``)."""
    if original(scheduler, running_batch, *args, **kwargs):
        return True
    chunked, tree = scheduler.chunked_req, scheduler.tree_cache
    bounded = _State.policy.fg_max_chunk_ms > 0     # else only a chunked request may pause
    if tree is None or (chunked is None and not (bounded and scheduler.waiting_queue)):
        return False
    snap = kv_snapshot(tree, scheduler.waiting_queue,
                       running_batch.reqs if running_batch is not None else [])
    cls = req_class(chunked, tree) if chunked is not None else ReqClass.FOREGROUND
    if cls is not ReqClass.FOREGROUND and pause_background_chunk(
            snap, _State.policy, cls is ReqClass.PROMOTED, aged(chunked, _State.policy)):
        STATS.bg_paused += 1
        return True
    if (chunked is not None or snap.fg_waiting) and decode_first(snap, _State.policy):
        STATS.prefills_deferred += 1
        return True
    return False


def after_get_prefill_adder_class(result, scheduler, *args, **kwargs):
    """AFTER hook on Scheduler.get_prefill_adder_class."""
    return lookahead_adder(result)


def _prefill_lens(batch) -> list[tuple[object, int, int]]:
    """(request, prefilled before, tokens prefilled now) of a prefill (extend) batch; empty for
    decode and for speculative verification (decode work, not prefill). A mixed batch's
    decoding rows (one token each, ``decoding_reqs``) are decode work too."""
    mode = batch.forward_mode
    if mode is None or not mode.is_extend() or mode.is_target_verify():
        return []
    decoding = {id(r) for r in _mixed_decoding(batch)}
    return [(r, p, n) for r, p, n in zip(batch.reqs, batch.prefix_lens, batch.extend_lens)
            if id(r) not in decoding]


def _mixed_decoding(batch) -> list:
    """The running requests a mixed prefill batch decodes beside its prefill (none unless
    mixed)."""
    mode = batch.forward_mode
    return list(batch.decoding_reqs or ()) if mode is not None and mode.is_mixed() else []


def around_run_batch(original, scheduler, batch, *args, **kwargs):
    """AROUND hook on Scheduler.run_batch: the ledger counts the batch's prefill by purpose
    (before it runs: the tree still shows the sessions as the batch found them), and the step
    time the chunk-size decision observes."""
    prefills = _prefill_lens(batch)
    tree = scheduler.tree_cache
    for req, start, count in prefills if isinstance(tree, LookaheadRadixCache) else ():
        tree.account_prefill(req, int(start), int(count))
    start_s = time.perf_counter()
    try:
        return original(scheduler, batch, *args, **kwargs)
    finally:
        tokens = sum(int(n) for _, _, n in prefills)
        branch = sum(int(n) for r, _, n in prefills if parse_prepare_rid(r.rid))
        STATS.step_finished((time.perf_counter() - start_s) * 1000.0, tokens, branch,
                            tuple((int(p), int(n)) for _, p, n in prefills),
                            _decoding(scheduler, batch) if prefills else 0,
                            len(_mixed_decoding(batch)) if prefills else 0)


def _decoding(scheduler, batch) -> int:
    """Requests of the running decode batch a prefill ``batch`` holds back (SGLang runs the two
    one after the other; a request prefilled in this batch is not one of them)."""
    running = scheduler.running_batch
    if running is None or running is batch:
        return 0
    prefilling = {id(r) for r in batch.reqs}
    return sum(1 for r in running.reqs if id(r) not in prefilling)
