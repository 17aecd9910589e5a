"""The CPU attention kernels against a dense reference, on random shapes (GQA, prefixes, batches)."""
import math

import pytest
import torch

from agentrt_kernels import IMPLEMENTATION, ops, reference

TOL = dict(atol=2e-5, rtol=1e-4)   # fp32: same math, different GEMM blocking


def dense_reference(q, k, v, prefix, scale):
    """Naive attention of n new queries over prefix + new keys (one request, [L, H, D])."""
    n, heads = q.shape[0], q.shape[1]
    group = heads // k.shape[1]
    k = k.repeat_interleave(group, dim=1)
    v = v.repeat_interleave(group, dim=1)
    scores = torch.einsum("nhd,lhd->hnl", q.double(), k.double()) * scale
    rows = torch.arange(n).unsqueeze(1) + prefix
    scores = scores.masked_fill(torch.arange(k.shape[0]).unsqueeze(0) > rows, float("-inf"))
    return torch.einsum("hnl,lhd->nhd", scores.softmax(-1), v.double()).float()


def make_batch(seed, heads, kv_heads, dim, prefixes, news, pool=4096):
    g = torch.Generator().manual_seed(seed)
    k_cache = torch.randn(pool, kv_heads, dim, generator=g)
    v_cache = torch.randn(pool, kv_heads, dim, generator=g)
    req_to_token = torch.zeros(len(prefixes) + 2, 2048, dtype=torch.int32)
    slots = torch.randperm(pool - 1, generator=g) + 1
    used = 0
    req_ids = torch.randperm(len(prefixes) + 2, generator=g)[:len(prefixes)]
    for r, p, n in zip(req_ids.tolist(), prefixes, news):
        req_to_token[r, :p + n] = slots[used:used + p + n].to(torch.int32)
        used += p + n
    q = torch.randn(sum(news), heads, dim, generator=g)
    return q, k_cache, v_cache, req_to_token, req_ids


@pytest.mark.parametrize("impl", ["cpp", "torch"])
@pytest.mark.parametrize("seed", range(6))
def test_extend_matches_dense_reference(impl, seed):
    if impl == "cpp" and IMPLEMENTATION != "cpp":
        pytest.skip("C++ extension not built")
    g = torch.Generator().manual_seed(100 + seed)
    kv_heads = [1, 2, 3][seed % 3]
    heads = kv_heads * [1, 3, 4][seed % 3]
    batch = 1 + seed % 3
    prefixes = torch.randint(0, 300, (batch,), generator=g).tolist()
    news = torch.randint(1, 200, (batch,), generator=g).tolist()
    q, kc, vc, r2t, reqs = make_batch(seed, heads, kv_heads, 64, prefixes, news)
    out = torch.empty_like(q)
    scale = 1 / math.sqrt(64)
    fn = ops._C.extend_attention if impl == "cpp" else reference.extend_attention
    fn(q, kc, vc, r2t, reqs, torch.tensor(prefixes) + torch.tensor(news), torch.tensor(prefixes),
       torch.tensor(news), scale, True, out)
    start = 0
    for r, p, n in zip(reqs.tolist(), prefixes, news):
        slots = r2t[r, :p + n].long()
        want = dense_reference(q[start:start + n], kc[slots], vc[slots], p, scale)
        torch.testing.assert_close(out[start:start + n], want, **TOL)
        start += n


@pytest.mark.parametrize("impl", ["cpp", "torch"])
def test_decode_matches_dense_reference(impl):
    if impl == "cpp" and IMPLEMENTATION != "cpp":
        pytest.skip("C++ extension not built")
    lens = [1, 17, 300, 1025]
    q, kc, vc, r2t, reqs = make_batch(7, 9, 3, 64, [n - 1 for n in lens], [1] * len(lens))
    out = torch.empty_like(q)
    fn = ops._C.decode_attention if impl == "cpp" else reference.decode_attention
    fn(q, kc, vc, r2t, reqs, torch.tensor(lens), 0.125, out)
    for i, (r, n) in enumerate(zip(reqs.tolist(), lens)):
        slots = r2t[r, :n].long()
        torch.testing.assert_close(out[i:i + 1], dense_reference(q[i:i + 1], kc[slots],
                                                                 vc[slots], n - 1, 0.125), **TOL)


def test_non_causal_and_long_blocks():
    if IMPLEMENTATION != "cpp":
        pytest.skip("C++ extension not built")
    q, kc, vc, r2t, reqs = make_batch(3, 4, 2, 32, [0], [300])   # > one 128-query block
    a, b = torch.empty_like(q), torch.empty_like(q)
    args = (q, kc, vc, r2t, reqs, torch.tensor([300]), torch.tensor([0]), torch.tensor([300]))
    ops._C.extend_attention(*args, 0.2, False, a)
    reference.extend_attention(*args, 0.2, False, b)
    torch.testing.assert_close(a, b, **TOL)


def test_cpp_rejects_bad_shapes_cleanly():
    if IMPLEMENTATION != "cpp":
        pytest.skip("C++ extension not built")
    q = torch.randn(4, 5, 8)          # 5 heads over 2 kv heads: not a multiple
    kc = torch.randn(16, 2, 8)
    with pytest.raises(RuntimeError, match="multiple of kv heads"):
        ops._C.decode_attention(q, kc, kc, torch.zeros(1, 16, dtype=torch.int32),
                                torch.tensor([0]), torch.tensor([4]), 1.0, torch.empty_like(q))


def test_dispatch_uses_fallback_for_other_dtypes():
    q, kc, vc, r2t, reqs = make_batch(1, 2, 1, 16, [5], [3])
    out = torch.empty_like(q, dtype=torch.float64)
    ops.extend_attention(q.double(), kc.double(), vc.double(), r2t, reqs, torch.tensor([8]),
                         torch.tensor([5]), torch.tensor([3]), 0.25, True, out)
    slots = r2t[reqs[0], :8].long()
    torch.testing.assert_close(out.float(), dense_reference(q, kc[slots], vc[slots], 5, 0.25),
                               **TOL)


def tree_masks(seed, bs, n):
    """Random draft trees in SGLang's n-gram layout: flat bool [bs * n * n], parents first."""
    g = torch.Generator().manual_seed(seed)
    masks = torch.zeros(bs, n, n, dtype=torch.bool)
    for b in range(bs):
        for i in range(n):
            if i:
                p = int(torch.randint(0, i, (1,), generator=g))
                masks[b, i] = masks[b, p]
            masks[b, i, i] = True
    return masks


def dense_verify_reference(q, k, v, prefix, mask, scale):
    """Naive tree-masked attention of n drafts over prefix + drafts (one request, double)."""
    n, heads = q.shape[0], q.shape[1]
    group = heads // k.shape[1]
    k = k.repeat_interleave(group, dim=1).double()
    v = v.repeat_interleave(group, dim=1).double()
    scores = torch.einsum("nhd,lhd->hnl", q.double(), k) * scale
    visible = torch.cat([torch.ones(n, prefix, dtype=torch.bool), mask], dim=1)
    scores = scores.masked_fill(~visible, float("-inf"))
    return torch.einsum("hnl,lhd->nhd", scores.softmax(-1), v).float()


@pytest.mark.parametrize("seed", range(8))
def test_verify_matches_dense_masked_reference(seed):
    g = torch.Generator().manual_seed(200 + seed)
    kv_heads = [1, 2, 3][seed % 3]
    heads = kv_heads * [1, 3, 4][seed % 3]
    bs, n = 1 + seed % 3, [1, 4, 8, 12][seed % 4]
    prefixes = torch.randint(1, 300, (bs,), generator=g).tolist()
    q, kc, vc, r2t, reqs = make_batch(seed, heads, kv_heads, 32, prefixes, [n] * bs)
    draft_locs = torch.cat([r2t[r, p:p + n] for r, p in zip(reqs.tolist(), prefixes)]).long()
    masks = tree_masks(seed, bs, n)
    out = torch.empty_like(q)
    ops.verify_attention(q, kc, vc, r2t, reqs, torch.tensor(prefixes), draft_locs,
                         masks.reshape(-1), 0.17, out)
    for b, (r, p) in enumerate(zip(reqs.tolist(), prefixes)):
        slots = r2t[r, :p + n].long()
        want = dense_verify_reference(q[b * n:(b + 1) * n], kc[slots], vc[slots], p, masks[b],
                                      0.17)
        torch.testing.assert_close(out[b * n:(b + 1) * n], want, **TOL)


def test_verify_of_a_chain_equals_causal_extend():
    """A chain tree is plain causal attention: verify must agree with extend on the same slots."""
    prefixes, n = [40, 7], 6
    q, kc, vc, r2t, reqs = make_batch(11, 6, 2, 32, prefixes, [n] * 2)
    draft_locs = torch.cat([r2t[r, p:p + n] for r, p in zip(reqs.tolist(), prefixes)]).long()
    chain = torch.tril(torch.ones(n, n, dtype=torch.bool)).repeat(2, 1, 1).reshape(-1)
    a, b = torch.empty_like(q), torch.empty_like(q)
    ops.verify_attention(q, kc, vc, r2t, reqs, torch.tensor(prefixes), draft_locs, chain, 0.2, a)
    ops.extend_attention(q, kc, vc, r2t, reqs, torch.tensor(prefixes) + n,
                         torch.tensor(prefixes), torch.tensor([n, n]), 0.2, True, b)
    torch.testing.assert_close(a, b, **TOL)


def test_backend_target_verify_writes_kv_and_masks_the_tree():
    """AgentrtCpuAttnBackend.forward_extend in TARGET_VERIFY: KV written at out_cache_loc,
    then tree-masked attention over prefix + drafts (against the dense reference)."""
    from types import SimpleNamespace

    from sglang.srt.model_executor.forward_batch_info import ForwardMode

    from agentrt_kernels.sglang_backend import AgentrtCpuAttnBackend

    heads, kv_heads, dim, n, prefix = 4, 2, 16, 5, 9
    q0, kc, vc, r2t, reqs = make_batch(5, heads, kv_heads, dim, [prefix], [n])
    draft_locs = r2t[reqs[0], prefix:prefix + n].long()
    k_new = torch.randn(n, kv_heads, dim)
    v_new = torch.randn(n, kv_heads, dim)

    class Pool:
        def set_kv_buffer(self, layer, loc, k, v):
            kc[loc.loc] = k.view(-1, kv_heads, dim)
            vc[loc.loc] = v.view(-1, kv_heads, dim)

        def get_key_buffer(self, layer_id):
            return kc

        def get_value_buffer(self, layer_id):
            return vc

    backend = AgentrtCpuAttnBackend.__new__(AgentrtCpuAttnBackend)
    backend.token_to_kv_pool, backend.swa_out_cache_loc = Pool(), None
    backend.req_to_token_pool = SimpleNamespace(req_to_token=r2t)
    layer = SimpleNamespace(tp_q_head_num=heads, tp_k_head_num=kv_heads, qk_head_dim=dim,
                            v_head_dim=dim, scaling=0.3, layer_id=0, is_cross_attention=False,
                            sliding_window_size=None)
    masks = tree_masks(3, 1, n)
    batch = SimpleNamespace(forward_mode=ForwardMode.TARGET_VERIFY, out_cache_loc=draft_locs,
                            req_pool_indices=reqs, seq_lens=torch.tensor([prefix]),
                            encoder_lens=None,
                            spec_info=SimpleNamespace(custom_mask=masks.reshape(-1)))
    out = backend.forward_extend(q0.reshape(n, -1), k_new.reshape(n, -1), v_new.reshape(n, -1),
                                 layer, batch)
    assert torch.equal(kc[draft_locs], k_new) and torch.equal(vc[draft_locs], v_new)
    slots = r2t[reqs[0], :prefix + n].long()
    want = dense_verify_reference(q0, kc[slots], vc[slots], prefix, masks[0], 0.3)
    torch.testing.assert_close(out.view(n, heads, dim), want, **TOL)


@pytest.mark.parametrize("n", [1, 5])
def test_verify_chain_fast_path_matches_masked_path(n):
    """draft_slots_in_table with chain trees takes the C++ extend kernel: same result."""
    prefixes = [33, 90]
    q, kc, vc, r2t, reqs = make_batch(21, 6, 3, 32, prefixes, [n] * 2)
    draft_locs = torch.cat([r2t[r, p:p + n] for r, p in zip(reqs.tolist(), prefixes)]).long()
    chain = torch.tril(torch.ones(n, n, dtype=torch.bool)).repeat(2, 1, 1).reshape(-1)
    fast, slow = torch.empty_like(q), torch.empty_like(q)
    ops.verify_attention(q, kc, vc, r2t, reqs, torch.tensor(prefixes), draft_locs, chain, 0.2,
                         fast, draft_slots_in_table=True)
    reference.verify_attention(q, kc, vc, r2t, reqs, torch.tensor(prefixes), draft_locs, chain,
                               0.2, slow)
    torch.testing.assert_close(fast, slow, **TOL)
