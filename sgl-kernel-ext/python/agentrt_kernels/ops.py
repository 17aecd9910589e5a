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
                     tree_mask, scale: float, out):
    """Tree-masked speculative verify (torch for now: ~n x (prefix + n) per request)."""
    return reference.verify_attention(q, k_cache, v_cache, req_to_token, req_pool_indices,
                                      seq_lens, draft_locs, tree_mask, scale, out)
