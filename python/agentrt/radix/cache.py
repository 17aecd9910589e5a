"""LookaheadRadixCache: SGLang's RadixCache with prepared branches, session heads and pins.

A prepared branch is an ordinary path of the radix tree (its KV was prefilled by a background
request tagged with the branch id); what makes it a branch is bookkeeping (branch.py) plus one
lock_ref held on its last node while it is live. Commit moves the session's context (its head)
to the branch; abandon releases the lock and frees the branch's exclusive nodes at once.

Who holds locks (each holder holds exactly one lock on one node; SGLang's requests hold theirs):

    holder                  node locked                         released by
    ----------------------  ----------------------------------  -------------------------------
    live branch             end of branch.tokens (page-aligned)  commit (-> commit pin), abandon,
                                                                 stale, budget, reset
    pin (tool TTL, commit)  end of the session's context         next turn, TTL expiry, an
                                                                 allocation the pool cannot
                                                                 serve, close, reset

Freeing at once (``_free_path``) drops what hangs below an ended branch's path on no kept path
(session contexts, live branches: a cancelled or unfinished catch-up), then walks up the path
from its end and frees every node that is now an unlocked leaf and lies on no kept path: the
slots go straight back to the allocator. Whatever cannot be freed yet (a request still reads
it) is marked *discarded*, and eviction takes discarded nodes before any other.

Without sessions or branches every public method behaves exactly like RadixCache. The lookahead
budget (what only branches hold, and which work yields first) is budget.py's LookaheadBudget;
branch and session fields change only through BranchBook (branch.py); path lookups that must
not change the tree use the read-only walk (paths.py), ``match_prefix`` only where a node is
locked (``_lock_path``).
"""
import time
from array import array
from typing import Optional

from sglang.srt.mem_cache.base_prefix_cache import EvictParams, EvictResult, MatchPrefixParams
from sglang.srt.mem_cache.cache_init_params import CacheInitParams
from sglang.srt.mem_cache.radix_cache import RadixCache, RadixKey

from agentrt.lookahead.job_length import JobLengths
from agentrt.radix.branch import Branch, BranchBook, BranchState, LookaheadError
from agentrt.radix.budget import LookaheadBudget
from agentrt.radix.eviction import PreferDiscarded
from agentrt.radix.integrity import check_integrity
from agentrt.radix.ledger import WorkLedger
from agentrt.radix.paths import PathWalk, walk_path
from agentrt.radix.pins import Pin, PinTable
from agentrt.radix.rids import PREPARE_RID_PREFIX, parse_prepare_rid, prepare_rid  # noqa: F401
from agentrt.radix.settings import LookaheadSettings


class LookaheadRadixCache(RadixCache):
    def __init__(self, params: CacheInitParams, settings: LookaheadSettings = LookaheadSettings(),
                 clock=time.monotonic):
        self.settings = settings
        self.clock = clock
        self.book = BranchBook(clock)
        self.pin_table = PinTable(settings, clock)
        self.pins: dict[str, Pin] = self.pin_table.pins          # read by budget, snapshots
        self.tool_stats = self.pin_table.tool_stats
        self.discarded: set[int] = set()
        self.promoted: set[str] = set()   # branches a commit waits on: the scheduler's fast lane
        self.budget = LookaheadBudget(settings, self.book, self.pins)
        self.ledger = WorkLedger()        # every prefilled token by purpose (ledger.py)
        self.job_lengths = JobLengths(settings.job_history)   # ended jobs (job_length.py)
        super().__init__(params)  # calls self.reset()
        self.eviction_strategy = PreferDiscarded(self.eviction_strategy, self.discarded)

    # ------------------------------------------------------------------ SGLang overrides ------
    def reset(self):
        """Overrides RadixCache.reset (also /flush_cache): every lock is gone with the tree."""
        super().reset()
        if not hasattr(self, "book"):
            return
        self.book.forget_tree("tree reset")
        for branch_id, tokens in list(self.ledger.by_branch.items()):
            self.ledger.branch_ended(self.book.branches[branch_id], tokens)
        self.pins.clear()
        self.discarded.clear()
        self.promoted.clear()

    def checkpoint(self, req, *, up_to: int):
        """Overrides RadixCache.checkpoint: after caching, protect prefilled branches and move
        session heads (called by SGLang after prefill chunks and when a request finishes)."""
        super().checkpoint(req, up_to=up_to)
        if self.disable:
            return
        branch_id = parse_prepare_rid(req.rid)
        if req.finished():
            self.ledger.request_done(req.rid)
        if branch_id is not None:
            self.on_prefill_landed(branch_id)
            if req.finished():
                self.prefill_ended(branch_id, "prefill ended before the branch was cached")
            return
        session_id = req.session_id
        if session_id in self.book.sessions:
            tokens = list(req.full_untruncated_fill_ids[:up_to])
            self.on_session_turn(session_id, tokens)

    def release_aborted_request(self, handle) -> None:
        """Overrides BasePrefixCache.release_aborted_request: SGLang dropped a request that had
        not run (aborted in the waiting queue, refused at admission)."""
        super().release_aborted_request(handle)
        branch_id = parse_prepare_rid(handle.rid)
        if branch_id is not None and not self.disable:
            self.prefill_ended(branch_id, "prefill aborted before it ran")

    def account_prefill(self, req, start: int, count: int) -> None:
        """The scheduler is about to prefill ``count`` tokens of ``req`` from position
        ``start``: the ledger counts them by purpose (ledger.py)."""
        if self.disable or count <= 0:
            return
        branch_id = parse_prepare_rid(req.rid)
        if branch_id is not None:
            self.ledger.branch_prefill(self.book, branch_id, count)
        else:
            self.ledger.foreground_prefill(self.book, req.rid, req.session_id,
                                           req.origin_input_ids, start, count)

    def evict(self, params: EvictParams) -> EvictResult:
        """Overrides RadixCache.evict: expired pins first; if the unlocked tree cannot give the
        tokens asked for, the oldest prepared branches are abandoned (background work yields to
        foreground). Pins stay: they are bounded by their TTL."""
        return self._evict(params, pins_yield=False)

    def evict_for_alloc(self, params: EvictParams, *,
                        allocation_reclaim_satisfied=None) -> EvictResult:
        """Overrides BasePrefixCache.evict_for_alloc, SGLang's eviction for an allocation about
        to happen: ``evict``, and if the pool is still short, pins yield too, oldest first. A
        pin taken after SGLang admitted a request locks memory that admission counted as
        evictable; a chunked prefill continues regardless, and its allocation failing takes the
        scheduler down (the full memory regime of 2 Dec 09:52: 1,801 tokens asked, 7 free, all
        of the 9,000-token pool locked). A pin given up costs a re-prefill at most."""
        if allocation_reclaim_satisfied is not None:
            raise NotImplementedError("LookaheadRadixCache does not support joint reclaim")
        return self._evict(params, pins_yield=True)

    def _evict(self, params: EvictParams, pins_yield: bool) -> EvictResult:
        self.expire_pins()
        result = super().evict(params)
        evicted = result.num_tokens_evicted
        while evicted < params.num_tokens:
            freed = self._abandon_oldest_work("KV memory pressure", branches_only=not pins_yield)
            if freed is None:
                break
            more = super().evict(EvictParams(num_tokens=params.num_tokens - evicted))
            evicted += more.num_tokens_evicted + freed
        return EvictResult(num_tokens_evicted=evicted)

    def _delete_leaf(self, node):
        super()._delete_leaf(node)
        self.discarded.discard(node.id)

    # ------------------------------------------------------------------ budget ----------------
    @property
    def budget_tokens(self) -> int:
        pool = self.token_to_kv_pool_allocator.size if self.token_to_kv_pool_allocator else 0
        return self.budget.limit(pool)

    def held_tokens(self) -> int:
        """Tokens only lookahead holds (budget.py)."""
        return self.budget.held_tokens(self.root_node, self.walk)

    def holders(self) -> list[tuple[str, object]]:
        return self.budget.holders()

    def enforce_budget(self) -> None:
        while self.held_tokens() > self.budget_tokens:
            if self._abandon_oldest_work("over lookahead budget") is None:
                break

    def _abandon_oldest_work(self, reason: str, branches_only: bool = False) -> Optional[int]:
        """Release what the budget says yields first; returns the KV tokens that freed at
        once, None when lookahead holds nothing (``branches_only``: no branch)."""
        victim = self.budget.oldest_work(branches_only)
        if victim is None:
            return None
        before = self._available_tokens()
        if isinstance(victim, Branch):
            self._release_branch(victim, BranchState.ABANDONED, reason)
        else:
            self.unpin(victim.session_id, reason)
        return self._available_tokens() - before

    def _available_tokens(self) -> int:
        allocator = self.token_to_kv_pool_allocator
        return allocator.available_size() if allocator else 0

    # ------------------------------------------------------------------ sessions --------------
    def open_session(self, session_id: str, context: Optional[list[int]] = None):
        self.settings.check_tokens(context or [])
        return self.book.open_session(session_id, context)

    def close_session(self, session_id: str) -> None:
        """Abandon the session's branches, drop its pin, and learn its job's length."""
        self.job_lengths.add(self.book.session(session_id).job_tokens)
        for branch in self.book.close_session(session_id):
            self.abandon(session_id, branch.id, "session closed")
        self.unpin(session_id, "session closed")
        self.book.drop_session(session_id)

    def on_session_turn(self, session_id: str, tokens: list[int]) -> None:
        """A request of the session was cached: its tokens are the session's context now."""
        self.book.set_context(session_id, tokens)
        if self.pin_table.done_at_next_turn(session_id):
            self.unpin(session_id, "next turn")

    # ------------------------------------------------------------------ pins ------------------
    def pin(self, session_id: str, tool: Optional[str] = None, ttl_s: Optional[float] = None):
        """Pin the session's context while a tool runs; the TTL comes from the tool's observed
        durations (Continuum's rule, ttl.py) unless given. Returns the Pin or None (not worth it)."""
        session = self.book.session(session_id)
        if ttl_s is None:
            ttl_s = self.pin_table.tool_ttl(tool, len(session.context))
        if ttl_s < 0:
            raise LookaheadError("ttl_s must be >= 0")
        self.unpin(session_id, "re-pinned")
        if ttl_s == 0 or not session.context:
            return None
        return self._pin_node(session_id, session.context, ttl_s, f"tool:{tool or '*'}", tool)

    def _pin_node(self, session_id, tokens, ttl_s, reason, tool=None) -> Optional[Pin]:
        node = self._lock_path(tokens)
        if node is None:
            return None
        self.pin_table.add(session_id, node, len(tokens), ttl_s, reason, tool)
        self.enforce_budget()
        return self.pins.get(session_id)

    def unpin(self, session_id: str, reason: str) -> bool:
        pin = self.pin_table.remove(session_id)
        if pin is None:
            return False
        self.dec_lock_ref(pin.node)
        return True

    def expire_pins(self) -> int:
        expired = self.pin_table.expired()
        for sid in expired:
            self.unpin(sid, "ttl expired")
        return len(expired)

    # ------------------------------------------------------------------ branches --------------
    def prepare(self, session_id: str, tokens: list[int], strategy: str, version: int,
                source_signature: str = "") -> Branch:
        """Register a branch. If the tree already holds all its tokens it is READY at once;
        otherwise it stays PREPARING until the tagged prefill request is cached. A retried
        prepare (same strategy, version and tokens as a live branch) returns that branch."""
        self.settings.check_tokens(tokens)
        self.book.session(session_id)
        for live in self.book.live_branches(session_id):   # a retried prepare: the same branch
            if (live.strategy, live.version, live.tokens) == (strategy, version, list(tokens)):
                return live
        if len(tokens) > self.budget_tokens:  # a branch holds its whole path locked
            raise LookaheadError(f"branch needs {len(tokens)} tokens; the lookahead budget is "
                                 f"{self.budget_tokens}", 413)
        branch = self.book.new_branch(session_id, tokens, strategy, version, source_signature)
        for other in self.book.live_branches(session_id):
            if other is not branch and other.strategy == strategy:   # its shared prefix stays
                self._release_branch(other, BranchState.ABANDONED, f"superseded by {branch.id}",
                                     keep_path=tokens)
        self.on_prefill_landed(branch.id)
        return branch

    def append(self, session_id: str, branch_id: str, tokens: list[int]) -> Branch:
        """Catch-up: the branch grows by ``tokens`` (prefilled by another tagged request)."""
        self.settings.check_tokens(tokens)
        branch = self.book.branch(session_id, branch_id)
        self.book.start_catch_up(branch, tokens)
        self.on_prefill_landed(branch.id)
        return branch

    def commit(self, session_id: str, branch_id: str) -> Branch:
        """Swap the session's head to the branch. The branch's lock becomes a commit pin (kept
        until the commit request arrives); the old context's exclusive nodes are freed now.
        Clients send the commit beside the commit request, so that request may be cached first:
        a context that already extends the branch is that request's, and is kept."""
        if self.book.branch(session_id, branch_id).state is BranchState.COMMITTED:
            return self.book.branch(session_id, branch_id)   # a retried commit: done already
        swap = self.book.commit(session_id, branch_id)
        branch = swap.branch
        self.ledger.branch_committed(branch.id)
        self.unpin(session_id, "committed")
        self.pin_table.add(session_id, swap.node, len(branch.tokens),
                           self.settings.commit_pin_ttl_s, f"commit:{branch.id}")
        for other in self.book.live_branches(session_id):
            self._release_branch(other, BranchState.STALE, f"session committed {branch.id}")
        if not swap.kept:
            self._free_path(swap.old_context)
        return branch

    def abandon(self, session_id: str, branch_id: str, reason: str = "abandoned",
                keep_cache: bool = False) -> Branch:
        """``keep_cache``: what the branch's prefill landed stays in the tree as ordinary
        (unlocked, evictable) cache, for a resumed preparation or the synchronous commit
        request to reuse (a preempted or failed prefill); otherwise it is freed at once."""
        return self._end(session_id, branch_id, BranchState.ABANDONED, reason, keep_cache)

    def withdraw(self, session_id: str, strategy: str, version: int,
                 reason: str = "withdrawn") -> list[Branch]:
        """The caller committed before it heard the answer to its prepare of ``strategy``
        ``version``: that version and older ones never register from now on, and a live branch
        of one is abandoned, what its prefill landed left in the tree for the commit request."""
        ended = self.book.withdraw(session_id, strategy, version)
        for branch in ended:
            self._release_branch(branch, BranchState.ABANDONED, reason, free=False)
        return ended

    def _end(self, session_id: str, branch_id: str, state: BranchState, reason: str,
             keep_cache: bool = False) -> Branch:
        """Abandon or mark stale; a branch that already ended that way is returned as it is (a
        retried call changes nothing)."""
        branch = self.book.branch(session_id, branch_id)
        if branch.state is not state:
            self._release_branch(branch, state, reason, free=not keep_cache)
        return branch

    def promote(self, session_id: str) -> list[str]:
        """A commit waits on the session's unfinished preparation: move it to the fast lane."""
        self.book.session(session_id)
        waiting = [b.id for b in self.book.live_branches(session_id)
                   if b.state is BranchState.PREPARING or b.pending_tokens is not None]
        self.promoted.update(waiting)
        return waiting

    def mark_stale(self, session_id: str, branch_id: str, reason: str = "source changed"):
        return self._end(session_id, branch_id, BranchState.STALE, reason)

    def on_prefill_landed(self, branch_id: str) -> None:
        """A branch's prefill request was cached (``checkpoint`` calls this for every tagged
        request; prepare and append call it for tokens the tree already holds). When the tree
        holds all the branch's target tokens, their end node is locked: READY. The remains of
        a branch that ended before its prefill landed are freed first."""
        branch = self.book.branches.get(branch_id)
        if branch is None or branch.state is BranchState.COMMITTED:
            return  # a catch-up that landed after the commit: the session's own continuation
        if not branch.state.live:
            self._free_path(branch.target_tokens, remains=True)
            return
        if branch.state is BranchState.READY and branch.pending_tokens is None:
            return
        node = self._lock_path(branch.target_tokens)
        if node is None:
            return  # not (fully) prefilled yet
        previous = self.book.landed(branch, node)
        if previous is not None:
            self.dec_lock_ref(previous)
        self.promoted.discard(branch.id)
        self.enforce_budget()

    def prefill_ended(self, branch_id: str, reason: str) -> None:
        """A branch's prefill request ended (finished or aborted). A branch still waiting for
        it did not get it: its catch-up is cancelled (the branch stays ready with the tokens it
        had), a first preparation is abandoned. What landed stays in the tree as ordinary cache
        either way, for whoever prefills those tokens next. One prefill per branch is in flight
        at a time (the client chains its catch-ups), so the request that ended is the one the
        branch waits for."""
        branch = self.book.branches.get(branch_id)
        if branch is None or not branch.state.live:
            return
        if branch.pending_tokens is not None:
            self.book.cancel_catch_up(branch, reason)
        elif branch.state is BranchState.PREPARING:
            self._release_branch(branch, BranchState.ABANDONED, reason, free=False)

    def _release_branch(self, branch: Branch, state: BranchState, reason: str,
                        free: bool = True, keep_path: Optional[list[int]] = None) -> None:
        """End a live branch: its lock goes; its exclusive path is freed at once (``free``),
        except what lies on ``keep_path`` (a successor's tokens); the ledger counts what was
        dropped as waste."""
        node = self.book.release(branch, state, reason)
        self.promoted.discard(branch.id)
        if node is not None:
            self.dec_lock_ref(node)
        dropped = self._free_path(branch.tokens, keep_path=keep_path, remains=True) \
            if free else 0
        self.ledger.branch_ended(branch, dropped)

    # ------------------------------------------------------------------ tree primitives -------
    def page_key(self, tokens: list[int]) -> RadixKey:
        """``tokens`` as a page-aligned key of this tree (a trailing partial page dropped)."""
        return RadixKey(token_ids=array("q", tokens), extra_key=None).page_aligned(self.page_size)

    def walk(self, tokens: list[int]) -> PathWalk:
        """Where ``tokens``' path runs in the tree; read-only (paths.py)."""
        return walk_path(self.root_node, self.page_key(tokens), self.page_size)

    def _lock_path(self, tokens: list[int]):
        """Lock the node where ``tokens`` (page-aligned) end, if the tree holds all of them."""
        key = self.page_key(tokens)
        if len(key) == 0:
            return None
        match = self.match_prefix(MatchPrefixParams(key=key))
        if match.device_prefix_len != len(key):
            return None
        self.inc_lock_ref(match.last_device_node)
        return match.last_device_node

    def _free_path(self, tokens: list[int], keep_path: Optional[list[int]] = None,
                   remains: bool = False) -> int:
        """Free the exclusive tail of ``tokens``' path at once; returns the tokens it dropped
        (freed now, or marked discarded while a request still reads them).

        Nodes on any session's context path, on a live branch's and on ``keep_path`` (a node
        they share only in part too) are kept. With ``remains`` (an ended branch's path), what
        hangs below the path's end on none of them (a cancelled or unfinished catch-up) is
        dropped first. Anything else below the end makes it a junction: nothing is dropped."""
        keep = self._kept_nodes(keep_path)
        walk = self.walk(tokens)
        path = walk.nodes + ((walk.partial,) if walk.partial is not None else ())
        if not path:
            return 0
        below_end = self._remains_below(path[-1], keep) if remains else None
        freed = sum(self._drop_node(node) for node in below_end or ())
        below = None
        for node in reversed(path):
            if node.id in keep or node.evicted:
                break
            if any(child is not below and child.id not in self.discarded
                   for child in node.children.values()):
                break  # a junction: the rest of the path is shared with other cached content
            below = node
            freed += self._drop_node(node)
        return freed

    def _kept_nodes(self, keep_path: Optional[list[int]]) -> set[int]:
        """Ids of the nodes a release keeps: every session's context, every live branch's
        target, ``keep_path`` (the nodes each runs through, in part too)."""
        paths = [s.context for s in self.book.sessions.values()]
        paths += [b.target_tokens for b in self.book.live_branches()]
        keep: set[int] = set()
        for tokens in paths + ([keep_path] if keep_path else []):
            walk = self.walk(tokens)
            keep.update(n.id for n in walk.nodes)
            if walk.partial is not None:
                keep.add(walk.partial.id)
        return keep

    def _remains_below(self, node, keep: set[int]) -> Optional[list]:
        """The nodes under ``node``, deepest first, when no kept node is among them (None
        otherwise)."""
        found = []
        for child in node.children.values():
            below = self._remains_below(child, keep)
            if below is None or child.id in keep:
                return None
            found += below + [child]
        return found

    def _drop_node(self, node) -> int:
        """Free ``node`` (an unlocked leaf) now, or mark it discarded while a request still reads
        it or a node below it stays; returns its tokens."""
        if node.lock_ref > 0 or node.children:
            self.discarded.add(node.id)  # a request still reads it: evict it first later
            return len(node.key)
        tokens = len(node.key)
        if self.token_to_kv_pool_allocator is not None:
            self.token_to_kv_pool_allocator.free_segment(node.value, start_pos=0)
        self._delete_leaf(node)
        self.kv_events.record_remove(node)
        return tokens

    def check_integrity(self, expected_free: bool = False) -> None:
        check_integrity(self, expected_free=expected_free)
