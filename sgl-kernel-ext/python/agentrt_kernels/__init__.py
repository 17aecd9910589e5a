"""agentrt's CPU kernels: attention over SGLang's KV pool (C++ with a pure-torch fallback)."""
from agentrt_kernels.ops import (IMPLEMENTATION, decode_attention, extend_attention,
                                 verify_attention)

__all__ = ["IMPLEMENTATION", "decode_attention", "extend_attention", "verify_attention"]
