"""Pure-torch CPU attention over the KV pool: the fallback and the reference for the C++ kernel.

Both functions read K/V straight from the pool through the request-to-token table and compute
only the *new* queries against prefix + new keys (causal with an offset), so extending n new
tokens on a p-token cached prefix costs O(n x (p + n)), not O((p + n)^2) as SGLang 0.5.23's
torch_native backend does (it pads the query to full length).

    request r:  keys  [0 ............ p | p ........ p+n)     (p = cached prefix, n = new)
                query                   [0 ........ n)
                query j may attend to keys [0, p + j]           (causal, offset p)

Shapes: q [T, H, D] (T = sum of new tokens), k_cache [N, Hkv, D], v_cache [N, Hkv, Dv],
out [T, H, Dv]; req_to_token [R, max_len]; per-request int tensors of length B.
"""
import torch
from torch.nn.functional import scaled_dot_product_attention as sdpa


def _gather(cache: torch.Tensor, slots: torch.Tensor) -> torch.Tensor:
    """[L, Hkv, D] -> [1, Hkv, L, D] for SDPA."""
    return cache[slots].movedim(0, 1).unsqueeze(0)


def extend_attention(q, k_cache, v_cache, req_to_token, req_pool_indices, seq_lens,
                     prefix_lens, extend_lens, scale: float, causal: bool, out):
    gqa = q.shape[1] != k_cache.shape[1]
    start = 0
    for r, total, prefix, n in zip(req_pool_indices.tolist(), seq_lens.tolist(),
                                   prefix_lens.tolist(), extend_lens.tolist()):
        if n == 0:
            continue
        slots = req_to_token[r, :total].to(torch.int64)
        k, v = _gather(k_cache, slots), _gather(v_cache, slots)
        query = q[start:start + n].movedim(0, 1).unsqueeze(0).to(k.dtype)   # [1, H, n, D]
        mask, is_causal = None, False
        if causal and prefix == 0:
            is_causal = True
        elif causal:
            rows = torch.arange(n).unsqueeze(1) + prefix
            mask = torch.arange(total).unsqueeze(0) <= rows                # [n, total]
        o = sdpa(query, k, v, attn_mask=mask, is_causal=is_causal, scale=scale, enable_gqa=gqa)
        out[start:start + n] = o.squeeze(0).movedim(0, 1).to(out.dtype)
        start += n
    return out


def decode_attention(q, k_cache, v_cache, req_to_token, req_pool_indices, seq_lens,
                     scale: float, out):
    gqa = q.shape[1] != k_cache.shape[1]
    for i, (r, total) in enumerate(zip(req_pool_indices.tolist(), seq_lens.tolist())):
        slots = req_to_token[r, :total].to(torch.int64)
        k, v = _gather(k_cache, slots), _gather(v_cache, slots)
        query = q[i:i + 1].movedim(0, 1).unsqueeze(0).to(k.dtype)           # [1, H, 1, D]
        o = sdpa(query, k, v, scale=scale, enable_gqa=gqa)
        out[i:i + 1] = o.squeeze(0).movedim(0, 1).to(out.dtype)
    return out


def verify_attention(q, k_cache, v_cache, req_to_token, req_pool_indices, seq_lens, draft_locs,
                     tree_mask, scale: float, out):
    """Speculative target-verify attention: n draft tokens per request, tree-masked.

        request b:  keys  [committed prefix: seq_lens[b] slots | its n draft slots]
                    draft query i sees  every prefix key     + draft key j iff mask[b, i, j]

    ``draft_locs`` [bs * n]: KV slots of the drafts (SGLang's ``out_cache_loc``, where their K/V
    was just written); ``tree_mask`` flat bool [bs * n * n], row i = slot i's ancestors and
    itself. q / out: [bs * n, H, D]. The prefix is read through ``req_to_token``.
    """
    gqa = q.shape[1] != k_cache.shape[1]
    bs = seq_lens.numel()
    n = q.shape[0] // bs if bs else 0
    masks = tree_mask[:bs * n * n].view(bs, n, n).to(torch.bool)
    for b, (r, prefix) in enumerate(zip(req_pool_indices.tolist(), seq_lens.tolist())):
        slots = torch.cat([req_to_token[r, :prefix].to(torch.int64),
                           draft_locs[b * n:(b + 1) * n].to(torch.int64)])
        k, v = _gather(k_cache, slots), _gather(v_cache, slots)
        query = q[b * n:(b + 1) * n].movedim(0, 1).unsqueeze(0).to(k.dtype)   # [1, H, n, D]
        mask = torch.cat([torch.ones(n, prefix, dtype=torch.bool), masks[b]], dim=1)
        o = sdpa(query, k, v, attn_mask=mask, scale=scale, enable_gqa=gqa)
        out[b * n:(b + 1) * n] = o.squeeze(0).movedim(0, 1).to(out.dtype)
    return out
