"""Speculative-decoding kernels SGLang 0.5.23's CPU engine calls on the n-gram verify path.

All are torch (or plain-Python over a handful of ints) implementations of the contracts SGLang's
GPU kernels document; the draft trees are tiny (n <= ~16 slots per request), so per-request
Python loops cost microseconds next to a ~40 ms verify forward.

Tree layout shared by these kernels (one request b, n = draft_token_num slots):

| tensor                   | shape       | meaning                                                  |
|--------------------------|-------------|----------------------------------------------------------|
| tree_mask (flat)         | bs * n * n  | [b, i, j]: slot j is slot i or one of its ancestors       |
| positions (flat)         | bs * n      | seq_len[b] + number of strict ancestors of slot i         |
| retrieve_index           | bs, n       | b * n + i (flat index of slot i)                          |
| retrieve_next_token      | bs, n       | first child of slot i (smallest k > i), else -1           |
| retrieve_next_sibling    | bs, n       | next slot k > i with the same parent, else -1 (-1 at root)|

``reconstruct_indices_from_tree_mask`` lives in the submodule ``sgl_kernel.speculative`` (SGLang
imports it from there); the others are re-exported from ``sgl_kernel`` itself.
"""
import ctypes

import torch

__all__ = ["reconstruct_indices_from_tree_mask", "assign_extend_cache_locs_cpu",
           "verify_tree_greedy_cpu", "fill_accept_out_cache_loc_cpu", "fill_bonus_tokens_cpu",
           "copy_all_layer_kv_cache_cpu"]


def reconstruct_indices_from_tree_mask(tree_mask: torch.Tensor, verified_seq_len: torch.Tensor,
                                       positions: torch.Tensor, retrieve_index: torch.Tensor,
                                       retrieve_next_token: torch.Tensor,
                                       retrieve_next_sibling: torch.Tensor, batch_size: int,
                                       draft_token_num: int) -> None:
    """Fill positions / retrieve_* (in place) from the flat tree mask (module table)."""
    bs, n = int(batch_size), int(draft_token_num)
    if bs == 0:
        return
    mask = tree_mask[:bs * n * n].view(bs, n, n).to(torch.bool)
    order = torch.arange(n)
    strict = order.unsqueeze(0) < order.unsqueeze(1)              # [i, j]: j < i
    anc = mask & strict                                           # strict ancestors
    depth = anc.sum(-1)                                           # [bs, n]
    parent = torch.where(anc, order, -1).max(-1).values           # [bs, n]
    # first child of t: smallest k with anc[k, t] (k > t is implied by strictness)
    child = torch.where(anc, order.view(1, n, 1), n).min(1).values
    next_token = torch.where(child < n, child, -1)
    # next sibling of t: smallest k > t with parent[k] == parent[t] and parent[t] >= 0
    same = (parent.unsqueeze(2) == parent.unsqueeze(1)) & strict  # [b, k, t]
    sib = torch.where(same, order.view(1, n, 1), n).min(1).values
    next_sibling = torch.where((sib < n) & (parent >= 0), sib, -1)
    positions.view(-1)[:bs * n].copy_(
        (depth + verified_seq_len[:bs].to(torch.int64).unsqueeze(1)).reshape(-1))
    retrieve_index.view(-1)[:bs * n].copy_(torch.arange(bs * n))
    retrieve_next_token.view(-1)[:bs * n].copy_(next_token.reshape(-1))
    retrieve_next_sibling.view(-1)[:bs * n].copy_(next_sibling.reshape(-1))


def assign_extend_cache_locs_cpu(req_pool_indices: torch.Tensor, req_to_token: torch.Tensor,
                                 start_offset: torch.Tensor, end_offset: torch.Tensor,
                                 out_cache_loc: torch.Tensor, pool_len: int) -> None:
    """Gather KV slots: out = concat over requests i of req_to_token[r_i, start_i:end_i].

    The read-side twin of ``assign_req_to_token_pool_cpu`` (same layout, opposite direction).
    """
    del pool_len  # the row width; indexing checks bounds
    starts = start_offset.to(torch.int64).reshape(-1)
    lengths = (end_offset.to(torch.int64).reshape(-1) - starts).clamp_min(0)
    total = int(lengths.sum())
    if total == 0:
        return
    rows = torch.repeat_interleave(req_pool_indices.to(torch.int64).reshape(-1), lengths)
    first = torch.cumsum(lengths, 0) - lengths
    rank = torch.arange(total, dtype=torch.int64) - torch.repeat_interleave(first, lengths)
    cols = torch.repeat_interleave(starts, lengths) + rank
    out_cache_loc.view(-1)[:total] = req_to_token[rows, cols].to(out_cache_loc.dtype)


def verify_tree_greedy_cpu(predicts: torch.Tensor, accept_index: torch.Tensor,
                           accept_token_num: torch.Tensor, candidates: torch.Tensor,
                           retrive_index: torch.Tensor, retrive_next_token: torch.Tensor,
                           retrive_next_sibling: torch.Tensor,
                           target_predict: torch.Tensor) -> None:
    """Greedy tree verification (in place on predicts / accept_index / accept_token_num).

    Per request b, from the root slot: among the children of the last accepted slot (first
    child, then siblings in order) accept the first whose candidate token equals the target's
    prediction at the last accepted slot; stop when none does or ``accept_index`` is full.
    ``predicts[flat(slot)]`` = the target's token after each accepted slot (the last one is the
    bonus token); ``accept_index[b]`` = flat indices of accepted slots, root first, -1 padded;
    ``accept_token_num[b]`` = accepted drafts (root excluded).
    """
    bs, n = candidates.shape[0], candidates.shape[1]
    steps = accept_index.shape[1]
    cand = candidates.tolist()
    r_index = retrive_index.tolist()
    r_next = retrive_next_token.tolist()
    r_sib = retrive_next_sibling.tolist()
    target = target_predict.reshape(-1).tolist()
    flat_pred = predicts.view(-1)
    for b in range(bs):
        last = r_index[b][0]
        accept_index[b, 0] = last
        accepted, cur = 0, 0
        for _ in range(1, steps):
            want = target[last]
            cur = r_next[b][cur]
            while cur != -1 and cand[b][cur] != want:
                cur = r_sib[b][cur]
            if cur == -1:
                break
            flat_pred[last] = want
            accepted += 1
            last = r_index[b][cur]
            accept_index[b, accepted] = last
        accept_token_num[b] = accepted
        flat_pred[last] = target[last]
    del n


def fill_accept_out_cache_loc_cpu(accept_index: torch.Tensor, out_cache_loc: torch.Tensor,
                                  accept_out_cache_loc: torch.Tensor) -> None:
    """Compact: accept_out[k] = out_cache_loc[idx_k] for the k-th accept_index entry != -1."""
    flat = accept_index.reshape(-1).to(torch.int64)
    kept = flat[flat != -1]
    accept_out_cache_loc.view(-1)[:kept.numel()] = out_cache_loc[kept].to(
        accept_out_cache_loc.dtype)


def fill_bonus_tokens_cpu(accept_tokens: torch.Tensor, accept_lens: torch.Tensor,
                          bonus_tokens: torch.Tensor, accept_stride: int) -> None:
    """bonus[b] = accept_tokens[b * stride + accept_lens[b] - 1] (the last accepted token)."""
    bs = accept_lens.numel()
    idx = torch.arange(bs, dtype=torch.int64) * int(accept_stride) + \
        accept_lens.reshape(-1).to(torch.int64) - 1
    bonus_tokens.view(-1)[:bs] = accept_tokens.reshape(-1)[idx].to(bonus_tokens.dtype)


def _byte_rows(address: int, rows: int, stride: int) -> torch.Tensor:
    """A [rows, stride] uint8 view of memory a KV buffer owns (no copy)."""
    raw = (ctypes.c_uint8 * (rows * stride)).from_address(address)
    return torch.frombuffer(raw, dtype=torch.uint8).view(rows, stride)


def copy_all_layer_kv_cache_cpu(data_ptrs: torch.Tensor, strides: torch.Tensor,
                                tgt_loc: torch.Tensor, src_loc: torch.Tensor) -> None:
    """For every KV buffer (raw base address + bytes per slot): slot tgt[k] <- slot src[k].

    All sources are read before any target is written (safe when the sets overlap), like the
    GPU kernel. The buffers are SGLang's contiguous per-layer K/V tensors, so the view spans
    only slots up to the largest index used.
    """
    tgt = tgt_loc.reshape(-1).to(torch.int64)
    src = src_loc.reshape(-1).to(torch.int64)
    if tgt.numel() != src.numel():
        raise ValueError("tgt_loc and src_loc must have the same length")
    if tgt.numel() == 0:
        return
    if int(torch.minimum(tgt.min(), src.min())) < 0:
        raise ValueError("negative KV slot index")
    moved = tgt != src          # accepted tokens already in place (and padding 0 <- 0) stay
    if not bool(moved.any()):
        return
    tgt, src = tgt[moved], src[moved]
    rows = int(torch.maximum(tgt.max(), src.max())) + 1
    for address, stride in zip(data_ptrs.tolist(), strides.tolist()):
        buf = _byte_rows(int(address), rows, int(stride))
        buf[tgt] = buf[src]
