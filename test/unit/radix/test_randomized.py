"""Thousands of random operations against a naive reference model; integrity after each one."""
import random

import pytest
from sglang.srt.mem_cache.base_prefix_cache import EvictParams

from agentrt.radix.branch import BranchState, LookaheadError

from .helpers import FakeClock, cache_sequence, make_cache, matched


class Reference:
    """The naive model: branch states by id, and held tokens as a set of token prefixes."""

    def __init__(self):
        self.state: dict[str, BranchState] = {}

    @staticmethod
    def held(cache) -> int:
        ps = cache.page_size
        def pages(paths):
            return {tuple(t[:k * ps]) for t in paths for k in range(1, len(t) // ps + 1)}

        branches = [b.tokens for b in cache.book.live_branches() if b.node is not None]
        foreground = [s.context for s in cache.book.sessions.values()]
        foreground += [cache.book.sessions[p.session_id].context[:p.tokens]
                       for p in cache.pins.values()]
        # a tree node holds whole pages; paths share whole pages; what a session's context or
        # a pin holds is foreground state, not lookahead's
        return len(pages(branches) - pages(foreground)) * ps


def aligned(n, ps):
    return n // ps * ps


@pytest.mark.parametrize("page_size", [1, 2])
@pytest.mark.parametrize("seed", range(4))
def test_random_operations_keep_invariants(page_size, seed):
    rng = random.Random(1000 + seed)
    clock = FakeClock()
    c = make_cache(400, page_size, clock=clock, budget_tokens=120)
    ref = Reference()
    sessions = {}
    for i in range(3):
        ctx = [1, 2] + [rng.randrange(3, 9) for _ in range(rng.randrange(4, 20))]
        cache_sequence(c, ctx)
        c.open_session(f"s{i}", ctx)
        sessions[f"s{i}"] = ctx
    versions = {}
    for step in range(700):
        sid = rng.choice(list(sessions))
        ctx = c.book.session(sid).context or sessions[sid]
        op = rng.random()
        try:
            if op < 0.2:
                strategy = rng.choice(["summary", "window"])
                versions[(sid, strategy)] = versions.get((sid, strategy), 0) + 1
                tokens = ctx[:rng.randrange(1, 3)] + [rng.randrange(9, 14)
                                                       for _ in range(rng.randrange(1, 12))]
                b = c.prepare(sid, tokens, strategy, versions[(sid, strategy)])
                ref.state[b.id] = b.state
            elif op < 0.4:
                live = [b for b in c.book.live_branches(sid)]
                if live:
                    b = rng.choice(live)
                    cache_sequence(c, b.pending_tokens or b.tokens)
                    c.on_prefill_landed(b.id)
            elif op < 0.5:
                ready = [b for b in c.book.live_branches(sid) if b.state is BranchState.READY]
                if ready:
                    c.append(sid, ready[0].id, [rng.randrange(3, 14) for _ in range(3)])
            elif op < 0.6:
                ready = [b for b in c.book.live_branches(sid) if b.state is BranchState.READY]
                if ready:
                    before = list(c.book.session(sid).context)
                    b = c.commit(sid, ready[-1].id)
                    # a context that already extends the branch is kept (the commit request
                    # was cached before the swap arrived)
                    ahead = len(before) > len(b.tokens) and before[:len(b.tokens)] == b.tokens
                    assert c.book.session(sid).context == (before if ahead else b.tokens)
                    assert matched(c, b.tokens) == aligned(len(b.tokens), page_size)
            elif op < 0.68:
                live = c.book.live_branches(sid)
                if live:
                    c.abandon(sid, rng.choice(live).id, "random")
            elif op < 0.75:
                c.pin(sid, tool=rng.choice(["bash", "grep"]), ttl_s=rng.choice([0.5, 2.0]))
            elif op < 0.82:
                turn = ctx + [rng.randrange(3, 14) for _ in range(rng.randrange(1, 6))]
                cache_sequence(c, turn)
                c.on_session_turn(sid, turn)
            elif op < 0.9:
                cache_sequence(c, [rng.randrange(20, 30) for _ in range(rng.randrange(1, 30))])
            elif op < 0.95:
                c.evict(EvictParams(num_tokens=rng.randrange(1, 60)))
            else:
                clock.t += rng.choice([0.3, 1.0, 3.0])
        except LookaheadError:
            pass  # refused requests change nothing; integrity below proves it
        c.check_integrity(expected_free=True)
        # every branch that holds a lock keeps all its (aligned) tokens matchable
        for b in c.book.live_branches():
            if b.node is not None:
                assert b.state is BranchState.READY
                assert matched(c, b.tokens) == aligned(len(b.tokens), page_size)
        for pin in c.pins.values():
            assert pin.node.lock_ref > 0
        assert c.held_tokens() == ref.held(c)
        assert c.held_tokens() <= max(c.budget_tokens, 0) or not c.book.live_branches()
        # terminal states never change again
        for bid, state in list(ref.state.items()):
            now = c.book.branches[bid].state if bid in c.book.branches else state
            if not state.live:
                assert now is state
            ref.state[bid] = now
