"""check_integrity(): the invariants of a (Lookahead)RadixCache, checked by walking the tree.

Raises ``IntegrityError`` naming the first broken invariant:
- parent/child links and child keys agree; key and value lengths agree;
- lock counts are never negative and a node's count covers its children's counts;
- evictable + protected sizes equal the tree's unlocked / locked token counts;
- every KV slot in the tree appears exactly once and is not in the allocator's free list;
- with ``expected_free`` (nothing in flight): free slots + tree slots = the whole pool;
- every holder (live branch, pin) holds a node that is still attached to the tree.
"""
import torch


class IntegrityError(AssertionError):
    pass


def _nodes(cache):
    stack = [cache.root_node]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children.values())


def _free_slots(allocator) -> torch.Tensor:
    parts = [allocator.free_pages, allocator.release_pages]   # both allocator classes
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return torch.empty(0, dtype=torch.int64)
    pages = torch.cat(parts).to(torch.int64)
    ps = allocator.page_size
    if ps == 1:
        return pages
    return (pages[:, None] * ps + torch.arange(ps)[None, :]).reshape(-1)


def attached(cache, node) -> bool:
    while node is not cache.root_node:
        parent = node.parent
        if parent is None or node.value is None:
            return False
        if parent.children.get(node.key.child_key(cache.page_size)) is not node:
            return False
        node = parent
    return True


def check_integrity(cache, expected_free: bool = False) -> None:
    ps = cache.page_size
    evictable = protected = 0
    slots = []
    for node in _nodes(cache):
        if node.lock_ref < 0:
            raise IntegrityError(f"node {node.id} has lock_ref {node.lock_ref}")
        child_locks = 0
        for ckey, child in node.children.items():
            if child.parent is not node:
                raise IntegrityError(f"node {child.id}'s parent link does not point to {node.id}")
            if ckey != child.key.child_key(ps):
                raise IntegrityError(f"node {child.id} is filed under the wrong child key")
            child_locks += child.lock_ref
        if node is cache.root_node:
            continue
        if node.value is None or len(node.value) != len(node.key):
            raise IntegrityError(f"node {node.id}: key and value lengths differ")
        if len(node.key) == 0 or len(node.key) % ps:
            raise IntegrityError(f"node {node.id}: key length {len(node.key)} not page-aligned")
        if node.lock_ref < child_locks:
            raise IntegrityError(f"node {node.id}: lock_ref {node.lock_ref} < children's "
                                 f"{child_locks}")
        if node.lock_ref == 0:
            evictable += len(node.key)
        else:
            protected += len(node.key)
        slots.append(node.value.to(torch.int64))
    if evictable != cache.evictable_size_ or protected != cache.protected_size_:
        raise IntegrityError(f"sizes: counted evictable={evictable} protected={protected}, "
                             f"recorded {cache.evictable_size_}/{cache.protected_size_}")
    tree = torch.cat(slots) if slots else torch.empty(0, dtype=torch.int64)
    if len(torch.unique(tree)) != len(tree):
        raise IntegrityError("a KV slot is reachable from more than one tree position")
    allocator = cache.token_to_kv_pool_allocator
    if allocator is not None and hasattr(allocator, "free_pages"):
        free = _free_slots(allocator)
        if len(free) and bool(torch.isin(tree, free).any()):
            raise IntegrityError("a KV slot is both in the tree and free")
        if expected_free:
            pool = allocator.size
            if len(tree) + len(free) != pool:
                raise IntegrityError(f"leak: {len(tree)} in tree + {len(free)} free != {pool}")
    for holder, node in getattr(cache, "holders", lambda: [])():
        if not attached(cache, node):
            raise IntegrityError(f"{holder} holds a node that is no longer in the tree")
        if node.lock_ref <= 0:
            raise IntegrityError(f"{holder} holds node {node.id} without a lock")
