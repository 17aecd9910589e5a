"""The one place that chooses between the C++ kernels and the pure-torch fallback.

``IMPLEMENTATION`` is "cpp" when the extension built at set-up imports, else "torch" (logged
once, never an error). ``AGENTRT_KERNELS=torch`` forces the fallback (for comparisons).
The C++ kernel handles float32; other dtypes always take the fallback.
"""
import logging
import os

import torch

from agentrt_kernels import reference

logger = logging.getLogger("agentrt_kernels")

try:
    if os.environ.get("AGENTRT_KERNELS", "").lower() == "torch":
        raise ImportError("AGENTRT_KERNELS=torch")
    from agentrt_kernels import _C  # built by sgl-kernel-ext/setup.py
    IMPLEMENTATION = "cpp"
except ImportError as exc:  # degrade to the fallback with a log line, never a crash
    _C = None
    IMPLEMENTATION = "torch"
    logger.warning("agentrt_kernels: C++ extension unavailable (%s); using the torch fallback",
                   exc)


_CHAINS: dict[int, torch.Tensor] = {}


def _chain(n: int) -> torch.Tensor:
    if n not in _CHAINS:
        _CHAINS[n] = torch.tril(torch.ones(n, n, dtype=torch.bool))
    return _CHAINS[n]


def _cpp_ok(*tensors) -> bool:
    return _C is not None and all(t.dtype == torch.float32 for t in tensors)


def extend_attention(q, k_cache, v_cache, req_to_token, req_pool_indices, seq_lens,
                     prefix_lens, extend_lens, scale: float, causal: bool, out):
    if _cpp_ok(q, k_cache, v_cache, out):
        return _C.extend_attention(q, k_cache, v_cache, req_to_token, req_pool_indices,
                                   seq_lens, prefix_lens, extend_lens, float(scale), causal, out)
    return reference.extend_attention(q, k_cache, v_cache, req_to_token, req_pool_indices,
                                      seq_lens, prefix_lens, extend_lens, scale, causal, out)


def decode_attention(q, k_cache, v_cache, req_to_token, req_pool_indices, seq_lens,
                     scale: float, out):
    if _cpp_ok(q, k_cache, v_cache, out):
        return _C.decode_attention(q, k_cache, v_cache, req_to_token, req_pool_indices,
                                   seq_lens, float(scale), out)
    return reference.decode_attention(q, k_cache, v_cache, req_to_token, req_pool_indices,
                                      seq_lens, scale, out)


def verify_attention(q, k_cache, v_cache, req_to_token, req_pool_indices, seq_lens, draft_locs,
                     tree_mask, scale: float, out, draft_slots_in_table: bool = False):
    """Tree-masked speculative verify.

    When every request's tree is a chain (mask lower-triangular: always so at batch 1 with a
    chain drafter, and for 1-slot steps) and the drafts' KV slots are the table's next slots
    (``draft_slots_in_table``: ``draft_locs[b] == req_to_token[r, seq_len:seq_len + n]``, as
    SGLang's verify allocates them), verify *is* causal extend on a ``seq_len`` prefix: the
    C++ extend kernel serves it. Any other tree takes the masked torch path.
    """
    bs = seq_lens.numel()
    n = q.shape[0] // bs if bs else 0
    if draft_slots_in_table and n and _cpp_ok(q, k_cache, v_cache, out):
        masks = tree_mask[:bs * n * n].view(bs, n, n)
        if bool(torch.equal(masks, _chain(n).expand(bs, n, n))):
            lens = torch.full((bs,), n, dtype=seq_lens.dtype)
            return _C.extend_attention(q, k_cache, v_cache, req_to_token, req_pool_indices,
                                       seq_lens + n, seq_lens, lens, float(scale), True, out)
    return reference.verify_attention(q, k_cache, v_cache, req_to_token, req_pool_indices,
                                      seq_lens, draft_locs, tree_mask, scale, out)
