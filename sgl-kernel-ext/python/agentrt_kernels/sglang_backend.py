"""AgentrtCpuAttnBackend: SGLang's torch_native backend with O(new x total) extend and decode.

Subclasses ``TorchNativeAttnBackend`` (so KV writes, metadata and every other path stay
SGLang's) and overrides only its two per-batch attention routines with agentrt_kernels, which
read K/V from the pool by token index and compute only the new queries. Cross-attention,
encoder-offset and sliding-window layers go to the inherited implementation unchanged.
Registered as attention backend ``agentrt_cpu`` by the agentrt plugin.

Speculative target verify (``ForwardMode.TARGET_VERIFY``, which SGLang routes to
``forward_extend``): n draft tokens per request attend to the whole committed prefix
(``seq_lens``) and to the drafts their tree mask (``spec_info.custom_mask``, flat bs x n x n)
allows; positions come from ``spec_info.positions`` through the ForwardBatch (rope is applied
before attention). The drafts' K/V is written at ``out_cache_loc`` first, as in extend;
SGLang's verify takes those slots from ``req_to_token[r, seq_len:seq_len + n]`` (the request's
reserved decode slots), so a chain-shaped tree runs the C++ causal extend kernel.
"""
from sglang.srt.layers.attention.torch_native_backend import TorchNativeAttnBackend
from sglang.srt.mem_cache.memory_pool import KVWriteLoc

from agentrt_kernels import ops

BACKEND_NAME = "agentrt_cpu"


def _plain(encoder_lens, is_cross_attn, sliding_window_size) -> bool:
    return encoder_lens is None and not is_cross_attn and (
        sliding_window_size is None or sliding_window_size < 0)


def _is_tree_verify(forward_batch) -> bool:
    spec = forward_batch.spec_info
    return (forward_batch.forward_mode.is_target_verify() and spec is not None
            and getattr(spec, "custom_mask", None) is not None)


class AgentrtCpuAttnBackend(TorchNativeAttnBackend):
    def forward_extend(self, q, k, v, layer, forward_batch, save_kv_cache=True, **kwargs):
        """Overrides TorchNativeAttnBackend.forward_extend: adds the tree-masked verify mode."""
        if not _is_tree_verify(forward_batch):
            return super().forward_extend(q, k, v, layer, forward_batch, save_kv_cache,
                                          **kwargs)
        if layer.is_cross_attention or not _plain(forward_batch.encoder_lens, False,
                                                  layer.sliding_window_size):
            raise NotImplementedError("agentrt_cpu: speculative verify supports plain causal "
                                      "self-attention only (no cross / sliding-window layers)")
        if save_kv_cache and k is not None and v is not None:
            self.token_to_kv_pool.set_kv_buffer(
                layer, KVWriteLoc(forward_batch.out_cache_loc, self.swa_out_cache_loc), k, v)
        q_ = q.reshape(-1, layer.tp_q_head_num, layer.qk_head_dim)
        o = q.new_empty((q_.shape[0], layer.tp_q_head_num * layer.v_head_dim))
        o_ = o.view(-1, layer.tp_q_head_num, layer.v_head_dim)
        scale = layer.scaling if layer.scaling is not None else layer.qk_head_dim ** -0.5
        ops.verify_attention(q_, self.token_to_kv_pool.get_key_buffer(layer.layer_id),
                             self.token_to_kv_pool.get_value_buffer(layer.layer_id),
                             self.req_to_token_pool.req_to_token, forward_batch.req_pool_indices,
                             forward_batch.seq_lens, forward_batch.out_cache_loc,
                             forward_batch.spec_info.custom_mask, scale, o_,
                             draft_slots_in_table=True)
        return o

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
