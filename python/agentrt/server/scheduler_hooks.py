"""SGLang glue for the lookahead-aware scheduler (decisions live in scheduler.py, pure).

Hooks (installed by plugin.py in the scheduler process):
- AROUND ``SchedulePolicy.calc_priority``: after SGLang's own sort, re-order the waiting queue
  with ``scheduler.order_waiting`` (promoted > foreground by program policy > background).
- AFTER ``Scheduler.get_prefill_adder_class``: a subclass of SGLang's PrefillAdder whose
  ``add_one_req`` asks ``scheduler.admit_background`` before admitting a background request and
  caps its prefill chunk. A denied background request stops the batch's admission (everything
  after it in the queue is background too).

A request is background when its rid names a branch prefill (``agentrt-prepare:``) or its
priority is at or below agent_fields.BACKGROUND_PRIORITY; it is promoted while a commit waits on
its branch (``LookaheadRadixCache.promoted``).
"""
import time
from functools import lru_cache

from agentrt.radix.cache import parse_prepare_rid
from agentrt.server.agent_fields import BACKGROUND_PRIORITY
from agentrt.server.scheduler import (BgPolicy, ReqClass, ReqView, Snapshot, admit_background,
                                      order_waiting)
from agentrt.server.scheduler_stats import STATS


class _State:
    policy = BgPolicy()


def configure(policy: BgPolicy) -> None:
    _State.policy = policy


def req_class(req, tree) -> ReqClass:
    branch = parse_prepare_rid(getattr(req, "rid", None))
    if branch is not None and branch in getattr(tree, "promoted", ()):
        return ReqClass.PROMOTED
    priority = getattr(req, "priority", None)
    if branch is not None or (priority is not None and priority <= BACKGROUND_PRIORITY):
        return ReqClass.BACKGROUND
    return ReqClass.FOREGROUND


def _arrival(req) -> float:
    stats = getattr(req, "time_stats", None)
    for name in ("wait_queue_entry_time", "created_time"):
        value = getattr(stats, name, None) or getattr(req, name, None)
        if isinstance(value, (int, float)) and value > 0:
            return float(value)
    return 0.0


def kv_snapshot(tree, waiting, running_reqs) -> Snapshot:
    allocator = tree.token_to_kv_pool_allocator
    total = allocator.size
    used = total - allocator.available_size() - tree.evictable_size()
    fg = sum(1 for r in waiting if req_class(r, tree) is not ReqClass.BACKGROUND)
    bg = sum(1 for r in running_reqs if req_class(r, tree) is ReqClass.BACKGROUND)
    return Snapshot(time.perf_counter(), max(0, used), total, fg, bg, STATS.last_step_ms)


def _views(waiting, tree) -> list[ReqView]:
    pinned = set(getattr(tree, "pins", {}))
    first_seen: dict[str, float] = {}
    views = []
    for i, req in enumerate(waiting):
        program = getattr(req, "session_id", None)
        arrival = _arrival(req)
        if program is not None:
            first_seen[program] = min(first_seen.get(program, arrival), arrival)
        cached = len(getattr(req, "prefix_indices", ()) or ())
        uncached = max(0, len(getattr(req, "origin_input_ids", ()) or ()) - cached)
        views.append(ReqView(i, req_class(req, tree), arrival, program, 0.0,
                             program in pinned, uncached, cached))
    return [v._replace(program_arrival_s=first_seen.get(v.program, v.arrival_s)) for v in views]


def around_calc_priority(original, policy_self, waiting_queue, *args, **kwargs):
    """AROUND hook on SchedulePolicy.calc_priority (sorts ``waiting_queue`` in place)."""
    result = original(policy_self, waiting_queue, *args, **kwargs)
    tree = getattr(policy_self, "tree_cache", None)
    if tree is None or len(waiting_queue) < 2:
        return result
    running = kwargs.get("running_batch", args[0] if args else None)
    snap = kv_snapshot(tree, waiting_queue, getattr(running, "reqs", None) or [])
    order = order_waiting(_views(waiting_queue, tree), snap, _State.policy)
    if order != sorted(order):
        STATS.reorders += 1
        waiting_queue[:] = [waiting_queue[i] for i in order]
    return result


@lru_cache(maxsize=None)
def lookahead_adder(base: type) -> type:
    """A subclass of SGLang's prefill adder class ``base`` with background admission control."""
    from sglang.srt.managers.schedule_policy import AddReqResult

    class LookaheadPrefillAdder(base):
        def _background_decision(self):
            running = list(getattr(self.running_batch, "reqs", None) or []) + \
                list(self.can_run_list)
            return admit_background(kv_snapshot(self.tree_cache, [], running), _State.policy)

        def _with_chunk_cap(self, req, cap: int, call):
            """Run ``call`` with the chunk budget capped at ``cap`` for this request only."""
            saved = self.rem_chunk_tokens
            limit = cap if saved is None else min(saved, cap)
            self.rem_chunk_tokens = limit
            result = None
            try:
                result = call()
                return result
            finally:
                left = self.rem_chunk_tokens if self.rem_chunk_tokens is not None else limit
                self.rem_chunk_tokens = None if saved is None else saved - (limit - left)
                still_chunked = (getattr(self, "new_chunked_req", None) is req
                                 or result is req)   # add_chunked_req: not added this round
                if still_chunked and saved is not None:
                    # SGLang tracks one chunked request at a time: while this background
                    # request is mid-chunk, no other request may be chunked in this batch
                    self.rem_chunk_tokens = 0
                STATS.admitted(limit - left)

        def add_one_req(self, req, *args, **kwargs):
            """Overrides PrefillAdder.add_one_req: gate and chunk background requests."""
            if req_class(req, self.tree_cache) is not ReqClass.BACKGROUND:
                return super().add_one_req(req, *args, **kwargs)
            decision = self._background_decision()
            if not decision.admit:
                STATS.denied(decision.reason)
                return AddReqResult.OTHER
            STATS.bg_admitted += 1
            return self._with_chunk_cap(req, decision.max_tokens,
                                        lambda: super(LookaheadPrefillAdder, self)
                                        .add_one_req(req, *args, **kwargs))

        def add_chunked_req(self, req):
            """Overrides PrefillAdder.add_chunked_req: a background request that is already
            running continues in (possibly smaller) chunks, never stalls."""
            if req_class(req, self.tree_cache) is not ReqClass.BACKGROUND:
                return super().add_chunked_req(req)
            decision = self._background_decision()
            cap = decision.max_tokens if decision.admit else _State.policy.min_chunk_tokens
            return self._with_chunk_cap(req, cap, lambda: super(LookaheadPrefillAdder, self)
                                        .add_chunked_req(req))

    return LookaheadPrefillAdder


PROMOTED_PRIORITY = 100   # above every foreground request: a commit is waiting on it


def boost_promoted(scheduler) -> int:
    """Give queued and running requests of promoted branches the top SGLang priority, so SGLang's
    own priority sort and preemption treat them as the fast lane. Returns how many changed."""
    tree = getattr(scheduler, "tree_cache", None)
    if tree is None or not getattr(tree, "promoted", None):
        return 0
    reqs = list(getattr(scheduler, "waiting_queue", []) or [])
    reqs += list(getattr(getattr(scheduler, "running_batch", None), "reqs", None) or [])
    chunked = getattr(scheduler, "chunked_req", None)
    reqs += [chunked] if chunked is not None else []
    changed = 0
    for req in reqs:
        if req_class(req, tree) is ReqClass.PROMOTED and req.priority != PROMOTED_PRIORITY:
            req.priority = PROMOTED_PRIORITY
            changed += 1
    return changed


def after_get_prefill_adder_class(result, scheduler, *args, **kwargs):
    """AFTER hook on Scheduler.get_prefill_adder_class."""
    return lookahead_adder(result)


def around_run_batch(original, scheduler, batch, *args, **kwargs):
    """AROUND hook on Scheduler.run_batch: the step time the chunk-size decision observes."""
    start = time.perf_counter()
    try:
        return original(scheduler, batch, *args, **kwargs)
    finally:
        STATS.step_finished((time.perf_counter() - start) * 1000.0)
