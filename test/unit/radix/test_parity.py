"""With no branch features used, LookaheadRadixCache behaves exactly like SGLang's RadixCache."""
import random

import pytest
from sglang.srt.mem_cache.base_prefix_cache import EvictParams, MatchPrefixParams

from .helpers import cache_sequence, key, make_cache, make_plain, shape


@pytest.mark.parametrize("page_size", [1, 4])
@pytest.mark.parametrize("seed", range(5))
def test_same_trees_matches_locks_and_evictions(page_size, seed):
    rng = random.Random(seed)
    plain, ours = make_plain(256, page_size), make_cache(256, page_size)
    locked = []
    for _ in range(300):
        op = rng.random()
        tokens = [rng.randrange(1, 5) for _ in range(rng.randrange(1, 24))]
        if op < 0.45:
            assert cache_sequence(plain, tokens) == cache_sequence(ours, tokens)
        elif op < 0.7:
            a = plain.match_prefix(MatchPrefixParams(key=key(tokens)))
            b = ours.match_prefix(MatchPrefixParams(key=key(tokens)))
            assert a.device_prefix_len == b.device_prefix_len
            assert a.last_device_node.id - plain.root_node.id >= 0
            if rng.random() < 0.3 and b.device_prefix_len:
                plain.inc_lock_ref(a.last_device_node)
                ours.inc_lock_ref(b.last_device_node)
                locked.append((a.last_device_node, b.last_device_node))
        elif op < 0.8 and locked:
            a, b = locked.pop(rng.randrange(len(locked)))
            plain.dec_lock_ref(a)
            ours.dec_lock_ref(b)
        else:
            n = rng.randrange(1, 40)
            assert plain.evict(EvictParams(num_tokens=n)).num_tokens_evicted == \
                ours.evict(EvictParams(num_tokens=n)).num_tokens_evicted
        assert shape(plain) == shape(ours)
        assert plain.evictable_size() == ours.evictable_size()
        assert plain.protected_size() == ours.protected_size()
        assert plain.token_to_kv_pool_allocator.available_size() == \
            ours.token_to_kv_pool_allocator.available_size()
    ours.check_integrity()
