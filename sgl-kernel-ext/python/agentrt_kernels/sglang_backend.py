"""AgentrtCpuAttnBackend: SGLang's torch_native backend with O(new x total) extend and decode.

Subclasses ``TorchNativeAttnBackend`` (so KV writes, metadata and every other path stay
SGLang's) and overrides only its two per-batch attention routines with agentrt_kernels, which
read K/V from the pool by token index and compute only the new queries. Cross-attention,
encoder-offset and sliding-window layers go to the inherited implementation unchanged.
Registered as attention backend ``agentrt_cpu`` by the agentrt plugin.
"""
from sglang.srt.layers.attention.torch_native_backend import TorchNativeAttnBackend

from agentrt_kernels import ops

BACKEND_NAME = "agentrt_cpu"


def _plain(encoder_lens, is_cross_attn, sliding_window_size) -> bool:
    return encoder_lens is None and not is_cross_attn and (
        sliding_window_size is None or sliding_window_size < 0)


class AgentrtCpuAttnBackend(TorchNativeAttnBackend):
    def _run_sdpa_forward_extend(self, query, output, k_cache, v_cache, req_to_token,
                                 req_pool_indices, seq_lens, extend_prefix_lens, extend_seq_lens,
                                 encoder_lens=None, scaling=None, enable_gqa=False, causal=False,
                                 is_cross_attn=False, sliding_window_size=None):
        """Overrides TorchNativeAttnBackend._run_sdpa_forward_extend."""
        if not _plain(encoder_lens, is_cross_attn, sliding_window_size):
            return super()._run_sdpa_forward_extend(
                query, output, k_cache, v_cache, req_to_token, req_pool_indices, seq_lens,
                extend_prefix_lens, extend_seq_lens, encoder_lens, scaling, enable_gqa, causal,
                is_cross_attn, sliding_window_size)
        scale = scaling if scaling is not None else query.shape[-1] ** -0.5
        return ops.extend_attention(query, k_cache, v_cache, req_to_token, req_pool_indices,
                                    seq_lens, extend_prefix_lens, extend_seq_lens, scale,
                                    causal, output)

    def _run_sdpa_forward_decode(self, query, output, k_cache, v_cache, req_to_token,
                                 req_pool_indices, seq_lens, encoder_lens=None, scaling=None,
                                 enable_gqa=False, causal=False, is_cross_attn=False,
                                 sliding_window_size=None):
        """Overrides TorchNativeAttnBackend._run_sdpa_forward_decode."""
        if not _plain(encoder_lens, is_cross_attn, sliding_window_size):
            return super()._run_sdpa_forward_decode(
                query, output, k_cache, v_cache, req_to_token, req_pool_indices, seq_lens,
                encoder_lens, scaling, enable_gqa, causal, is_cross_attn, sliding_window_size)
        scale = scaling if scaling is not None else query.shape[-1] ** -0.5
        return ops.decode_attention(query, k_cache, v_cache, req_to_token, req_pool_indices,
                                    seq_lens, scale, output)


def create_backend(model_runner):
    return AgentrtCpuAttnBackend(model_runner)
