"""TTL pins, eviction order and memory pressure."""
from sglang.srt.mem_cache.base_prefix_cache import EvictParams

from agentrt.radix.branch import BranchState

from .helpers import FakeClock, cache_sequence, make_cache, matched


def test_pin_protects_until_ttl_expires():
    clock = FakeClock()
    c = make_cache(64, clock=clock)
    cache_sequence(c, [1, 2, 3])
    c.open_session("s", [1, 2, 3])
    pin = c.pin("s", tool="grep", ttl_s=2.0)
    assert pin.tool == "grep" and c.protected_size() == 3
    assert c.evict(EvictParams(num_tokens=3)).num_tokens_evicted == 0
    clock.t += 2.0
    assert c.evict(EvictParams(num_tokens=3)).num_tokens_evicted == 3   # expired, then evicted
    assert not c.pins
    c.check_integrity(expected_free=True)


def test_default_ttl_before_samples_then_learned_from_next_turns():
    clock = FakeClock()
    c = make_cache(64, clock=clock, ttl=__import__("agentrt.radix.ttl", fromlist=["TtlConfig"])
                   .TtlConfig(min_samples=3))
    cache_sequence(c, [1, 2, 3])
    c.open_session("s", [1, 2, 3])
    assert c.pin("s", tool="bash").expires_at == clock.t + 2.0       # fixed default
    for _ in range(3):                                               # bash takes 0.5 s
        clock.t += 0.5
        c.on_session_turn("s", [1, 2, 3])
        c.pin("s", tool="bash")
    assert c.tool_stats.samples("bash") == 3
    c.unpin("s", "test")
    c.book.session("s").context = list(range(1, 2000))              # costly to re-prefill
    cache_sequence(c, [1, 2, 3])
    assert c.tool_stats.choose_ttl("bash", 2.0).ttl_s == 0.5


def test_eviction_prefers_discarded_nodes():
    c = make_cache(64)
    cache_sequence(c, [1, 2, 3])
    c.open_session("s", [1, 2, 3])
    branch = c.prepare("s", [1, 2, 7, 7], "summary", 1)
    cache_sequence(c, [1, 2, 7, 7])
    c.on_prefill_landed(branch.id)
    # a request still reads the branch: lock it as a request would, then abandon
    node = branch.node
    c.inc_lock_ref(node)
    c.abandon("s", branch.id)
    c.dec_lock_ref(node)
    cache_sequence(c, [5, 5])                     # most recently used, not discarded
    assert node.id in c.discarded
    c.evict(EvictParams(num_tokens=2))
    assert matched(c, [1, 2, 7, 7]) == 2 and matched(c, [5, 5]) == 2
    c.check_integrity(expected_free=True)


def test_memory_pressure_abandons_lookahead_for_foreground():
    c = make_cache(16, budget_tokens=16)
    cache_sequence(c, [1, 2])
    c.open_session("s", [1, 2])
    branch = c.prepare("s", [1, 2] + [3] * 6, "summary", 1)
    cache_sequence(c, [1, 2] + [3] * 6)
    c.on_prefill_landed(branch.id)
    assert c.protected_size() == 8
    # a foreground request needs 12 of the 16 slots: only abandoning the branch makes room
    result = c.evict(EvictParams(num_tokens=12))
    assert branch.state is BranchState.ABANDONED
    assert branch.history[-1].reason == "KV memory pressure"
    assert c.token_to_kv_pool_allocator.available_size() >= 12 and result.num_tokens_evicted >= 8
    c.check_integrity(expected_free=True)


def test_an_allocation_the_pool_cannot_serve_takes_pins_oldest_first():
    """SGLang's allocation path (evict_from_tree_cache -> evict_for_alloc): when only pins hold
    the memory an allocation needs, the oldest pin yields; a plain evict keeps pins."""
    from sglang.srt.mem_cache.common import evict_from_tree_cache
    clock = FakeClock()
    c = make_cache(16, clock=clock)
    for sid, tokens in (("old", [1, 2, 3, 4, 5, 6]), ("new", [7, 8, 9, 10, 11, 12])):
        cache_sequence(c, tokens)
        c.open_session(sid, tokens)
        c.pin(sid, tool="bash", ttl_s=60.0)
        clock.t += 1.0
    allocator = c.token_to_kv_pool_allocator
    assert allocator.available_size() == 4
    assert c.evict(EvictParams(num_tokens=8)).num_tokens_evicted == 0 and len(c.pins) == 2
    evict_from_tree_cache(c, 8)
    assert allocator.available_size() >= 8 and allocator.alloc(8) is not None
    assert set(c.pins) == {"new"}                      # the oldest pin yielded, no more
    assert matched(c, [7, 8, 9, 10, 11, 12]) == 6 and matched(c, [1, 2, 3, 4, 5, 6]) == 0
