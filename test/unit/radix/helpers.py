"""Real SGLang pools and a LookaheadRadixCache to drive without a model or a server."""
from array import array

import torch
from sglang.srt.mem_cache.allocator.paged import PagedTokenToKVPoolAllocator
from sglang.srt.mem_cache.allocator.token import TokenToKVPoolAllocator
from sglang.srt.mem_cache.base_prefix_cache import InsertParams, MatchPrefixParams
from sglang.srt.mem_cache.cache_init_params import CacheInitParams
from sglang.srt.mem_cache.radix_cache import RadixCache, RadixKey

from agentrt.radix.cache import LookaheadRadixCache
from agentrt.radix.settings import LookaheadSettings


class FakeClock:
    def __init__(self, t: float = 100.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def allocator(size: int, page_size: int = 1):
    if page_size == 1:
        return TokenToKVPoolAllocator(size, torch.float32, "cpu", None, need_sort=False)
    return PagedTokenToKVPoolAllocator(size, page_size, torch.float32, "cpu", None,
                                       need_sort=False)


def params(size: int = 512, page_size: int = 1, policy: str = "lru") -> CacheInitParams:
    return CacheInitParams(disable=False, req_to_token_pool=None,
                           token_to_kv_pool_allocator=allocator(size, page_size),
                           page_size=page_size, eviction_policy=policy)


def make_cache(size: int = 512, page_size: int = 1, clock=None, **settings):
    return LookaheadRadixCache(params(size, page_size),
                               LookaheadSettings(**settings), clock=clock or FakeClock())


def make_plain(size: int = 512, page_size: int = 1) -> RadixCache:
    return RadixCache(params(size, page_size))


def key(tokens) -> RadixKey:
    return RadixKey(token_ids=array("q", tokens), extra_key=None)


def cache_sequence(cache, tokens) -> int:
    """What a finished request does: allocate slots for its page-aligned tokens, insert them,
    and free the duplicates of the prefix the tree already had. Returns that prefix length."""
    k = key(tokens).page_aligned(cache.page_size)
    if len(k) == 0:
        return 0
    slots = cache.token_to_kv_pool_allocator.alloc(len(k))
    if slots is None:
        cache.evict(__import__("sglang.srt.mem_cache.base_prefix_cache",
                               fromlist=["EvictParams"]).EvictParams(num_tokens=len(k)))
        slots = cache.token_to_kv_pool_allocator.alloc(len(k))
        assert slots is not None, "pool exhausted"
    result = cache.insert(InsertParams(key=k, value=slots))
    if result.prefix_len:
        cache.token_to_kv_pool_allocator.free(slots[:result.prefix_len])
    return result.prefix_len


def matched(cache, tokens) -> int:
    return cache.match_prefix(MatchPrefixParams(key=key(tokens))).device_prefix_len


def shape(cache):
    """The tree as nested tuples: ((first tokens..., length, lock_ref), children...), sorted."""
    def walk(node):
        kids = sorted((walk(c) for c in node.children.values()), key=repr)
        return (tuple(node.key.token_ids), node.lock_ref, *kids)
    return tuple(sorted((walk(c) for c in cache.root_node.children.values()), key=repr))
