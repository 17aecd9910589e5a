"""sgl_kernel's speculative verify-path kernels against plain-Python references.

The references restate each contract node by node (parents, children, siblings, walks) with
lists only; random trees come in SGLang's n-gram layout (root slot 0, parents before children,
padding hanging off the root), the layout agentrt's drafter packs.
"""
import random

import pytest
import torch

import sgl_kernel
from sgl_kernel import (assign_extend_cache_locs_cpu, copy_all_layer_kv_cache_cpu,
                        fill_accept_out_cache_loc_cpu, fill_bonus_tokens_cpu,
                        verify_tree_greedy_cpu)
from sgl_kernel.speculative import reconstruct_indices_from_tree_mask


def random_tree(rng: random.Random, n: int) -> list[int]:
    """Parent slot of each slot: -1 for slot 0 (the root), else an earlier slot."""
    return [-1] + [rng.randrange(0, i) for i in range(1, n)]


def mask_of(parents: list[int]) -> list[list[bool]]:
    n = len(parents)
    mask = [[False] * n for _ in range(n)]
    for i in range(n):
        j = i
        while j >= 0:
            mask[i][j] = True
            j = parents[j]
    return mask


def ref_reconstruct(masks, seq_lens):
    positions, r_index, r_next, r_sib = [], [], [], []
    for b, mask in enumerate(masks):
        n = len(mask)
        anc = [[mask[i][j] and j < i for j in range(n)] for i in range(n)]
        parent = [max((j for j in range(n) if anc[i][j]), default=-1) for i in range(n)]
        positions += [seq_lens[b] + sum(anc[i]) for i in range(n)]
        r_index.append([b * n + i for i in range(n)])
        r_next.append([min((k for k in range(n) if anc[k][t]), default=-1) for t in range(n)])
        r_sib.append([-1 if parent[t] < 0 else
                      min((k for k in range(t + 1, n) if parent[k] == parent[t]), default=-1)
                      for t in range(n)])
    return positions, r_index, r_next, r_sib


@pytest.mark.parametrize("seed", range(25))
def test_reconstruct_matches_reference(seed):
    rng = random.Random(seed)
    bs, n = rng.randint(1, 5), rng.randint(1, 12)
    masks = [mask_of(random_tree(rng, n)) for _ in range(bs)]
    seq_lens = [rng.randint(1, 500) for _ in range(bs)]
    flat = torch.tensor([v for m in masks for row in m for v in row], dtype=torch.bool)
    # SGLang passes views of buffers preallocated for a larger batch
    positions = torch.full((8 * n,), -7, dtype=torch.int64)[:bs * n]
    r_index, r_next, r_sib = (torch.full((8, n), -7, dtype=torch.int64)[:bs] for _ in range(3))
    reconstruct_indices_from_tree_mask(flat, torch.tensor(seq_lens), positions, r_index, r_next,
                                       r_sib, bs, n)
    want = ref_reconstruct(masks, seq_lens)
    assert positions.tolist() == want[0]
    assert r_index.tolist() == want[1]
    assert r_next.tolist() == want[2]
    assert r_sib.tolist() == want[3]


def test_reconstruct_chain_with_root_padding():
    # slots: 0 root, 1 -> 2 chain, 3 and 4 padding hung off the root
    parents = [-1, 0, 1, 0, 0]
    flat = torch.tensor([v for row in mask_of(parents) for v in row])
    pos, idx, nxt, sib = (torch.zeros(5, dtype=torch.int64) for _ in range(4))
    nxt, sib, idx = nxt.view(1, 5), sib.view(1, 5), idx.view(1, 5)
    reconstruct_indices_from_tree_mask(flat, torch.tensor([10]), pos, idx, nxt, sib, 1, 5)
    assert pos.tolist() == [10, 11, 12, 11, 11]
    assert nxt.tolist() == [[1, 2, -1, -1, -1]]
    assert sib.tolist() == [[-1, 3, -1, 4, -1]]


def ref_verify(cands, parents_b, targets, steps):
    """Walk each request's tree from the root: accept the first child equal to the target."""
    predicts, accept_index, accepted = [0] * sum(len(c) for c in cands), [], []
    for b, (cand, parents) in enumerate(zip(cands, parents_b)):
        n = len(cand)
        node, path = 0, [b * n]
        while len(path) < steps:
            want = targets[b][node]
            kids = [k for k in range(n) if parents[k] == node and cand[k] == want]
            if not kids:
                break
            predicts[b * n + node] = want
            node = kids[0]
            path.append(b * n + node)
        predicts[b * n + node] = targets[b][node]
        accept_index.append(path + [-1] * (steps - len(path)))
        accepted.append(len(path) - 1)
    return predicts, accept_index, accepted


@pytest.mark.parametrize("seed", range(40))
def test_verify_greedy_matches_reference(seed):
    rng = random.Random(seed)
    bs, n = rng.randint(1, 4), rng.randint(1, 10)
    vocab = rng.choice([2, 3, 50])  # tiny vocabularies make long accepted paths likely
    parents_b = [random_tree(rng, n) for _ in range(bs)]
    cands = [[rng.randrange(vocab) for _ in range(n)] for _ in range(bs)]
    targets = [[rng.randrange(vocab) for _ in range(n)] for _ in range(bs)]
    flat = torch.tensor([v for p in parents_b for row in mask_of(p) for v in row])
    r_index, r_next, r_sib = (torch.empty(bs, n, dtype=torch.int64) for _ in range(3))
    reconstruct_indices_from_tree_mask(flat, torch.zeros(bs, dtype=torch.int64),
                                       torch.empty(bs * n, dtype=torch.int64), r_index, r_next,
                                       r_sib, bs, n)
    steps = n
    predicts = torch.zeros(bs * n, dtype=torch.int32)
    accept_index = torch.full((bs, steps), -1, dtype=torch.int32)
    accepted = torch.empty(bs, dtype=torch.int32)
    verify_tree_greedy_cpu(predicts=predicts, accept_index=accept_index,
                           accept_token_num=accepted, candidates=torch.tensor(cands),
                           retrive_index=r_index, retrive_next_token=r_next,
                           retrive_next_sibling=r_sib, target_predict=torch.tensor(targets))
    want = ref_verify(cands, parents_b, targets, steps)
    assert predicts.tolist() == want[0]
    assert accept_index.tolist() == want[1]
    assert accepted.tolist() == want[2]


def test_verify_all_accepted_chain():
    cand = [[9, 1, 2, 3]]            # root 9, then the chain 1 2 3
    target = [[1, 2, 3, 4]]          # the model continues 1 2 3, then 4
    parents = [-1, 0, 1, 2]
    flat = torch.tensor([v for row in mask_of(parents) for v in row])
    r = [torch.empty(1, 4, dtype=torch.int64) for _ in range(3)]
    reconstruct_indices_from_tree_mask(flat, torch.tensor([5]), torch.empty(4, dtype=torch.int64),
                                       *r, 1, 4)
    predicts = torch.zeros(4, dtype=torch.int32)
    accept_index = torch.full((1, 4), -1, dtype=torch.int32)
    num = torch.empty(1, dtype=torch.int32)
    verify_tree_greedy_cpu(predicts=predicts, accept_index=accept_index, accept_token_num=num,
                           candidates=torch.tensor(cand), retrive_index=r[0],
                           retrive_next_token=r[1], retrive_next_sibling=r[2],
                           target_predict=torch.tensor(target))
    assert num.tolist() == [3]
    assert accept_index.tolist() == [[0, 1, 2, 3]]
    assert predicts[accept_index[0].long()].tolist() == [1, 2, 3, 4]  # committed + bonus


@pytest.mark.parametrize("seed", range(15))
def test_assign_extend_cache_locs_matches_reference(seed):
    g = torch.Generator().manual_seed(seed)
    rows, width, bs = 12, 40, int(torch.randint(1, 6, (1,), generator=g))
    table = torch.randint(1, 10_000, (rows, width), generator=g, dtype=torch.int32)
    req = torch.randperm(rows, generator=g)[:bs]
    start = torch.randint(0, 20, (bs,), generator=g)
    end = start + torch.randint(0, 12, (bs,), generator=g)
    out = torch.full((int((end - start).sum()) + 2,), -1, dtype=torch.int64)
    assign_extend_cache_locs_cpu(req, table, start, end, out, width)
    want = [v for r, s, e in zip(req.tolist(), start.tolist(), end.tolist())
            for v in table[r, s:e].tolist()]
    assert out.tolist() == want + [-1, -1]


def test_fill_accept_out_cache_loc_compacts():
    accept_index = torch.tensor([[0, 2, -1], [3, -1, -1], [6, 7, 8]], dtype=torch.int32)
    out_cache_loc = torch.arange(100, 109)
    got = torch.zeros(9, dtype=torch.int64)
    fill_accept_out_cache_loc_cpu(accept_index, out_cache_loc, got)
    assert got.tolist() == [100, 102, 103, 106, 107, 108, 0, 0, 0]


def test_fill_bonus_tokens():
    tokens = torch.tensor([5, 6, 7, 8, 9, 10], dtype=torch.int32)
    bonus = torch.zeros(2, dtype=torch.int32)
    fill_bonus_tokens_cpu(tokens, torch.tensor([2, 3]), bonus, 3)
    assert bonus.tolist() == [6, 10]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_copy_all_layer_kv_cache_moves_every_buffer(dtype):
    layers = [torch.randn(32, 2, 8).to(dtype) for _ in range(4)]
    before = [t.clone() for t in layers]
    ptrs = torch.tensor([t.data_ptr() for t in layers], dtype=torch.uint64)
    strides = torch.tensor([t.stride(0) * t.element_size() for t in layers])
    # overlapping sets: 5 <- 3 and 3 <- 5 swap (reads happen before writes)
    tgt, src = torch.tensor([3, 4, 5, 0]), torch.tensor([5, 9, 3, 0])
    copy_all_layer_kv_cache_cpu(ptrs, strides, tgt, src)
    for now, old in zip(layers, before):
        want = old.clone()
        want[tgt] = old[src]
        assert torch.equal(now, want)


def test_copy_all_layer_kv_cache_empty_and_bad_input():
    t = torch.zeros(4, 4)
    ptrs, strides = torch.tensor([t.data_ptr()], dtype=torch.uint64), torch.tensor([16])
    copy_all_layer_kv_cache_cpu(ptrs, strides, torch.empty(0, dtype=torch.int64),
                                torch.empty(0, dtype=torch.int64))
    with pytest.raises(ValueError):
        copy_all_layer_kv_cache_cpu(ptrs, strides, torch.tensor([1]), torch.tensor([-1]))


def test_exported_where_sglang_imports_them():
    assert sgl_kernel.speculative.reconstruct_indices_from_tree_mask is \
        reconstruct_indices_from_tree_mask
    for name in ("assign_extend_cache_locs_cpu", "verify_tree_greedy_cpu",
                 "fill_accept_out_cache_loc_cpu", "copy_all_layer_kv_cache_cpu"):
        assert name in sgl_kernel.IMPLEMENTED
        assert not isinstance(getattr(sgl_kernel, name), sgl_kernel._UnsupportedKernel)


def test_copy_all_layer_kv_cache_skips_slots_already_in_place():
    t = torch.arange(32.0).view(8, 4)
    ptrs, strides = torch.tensor([t.data_ptr()], dtype=torch.uint64), torch.tensor([16])
    copy_all_layer_kv_cache_cpu(ptrs, strides, torch.tensor([3, 0, 0]), torch.tensor([3, 0, 0]))
    assert torch.equal(t, torch.arange(32.0).view(8, 4))
    copy_all_layer_kv_cache_cpu(ptrs, strides, torch.tensor([3, 4]), torch.tensor([3, 6]))
    assert t[4].tolist() == [24.0, 25.0, 26.0, 27.0] and t[3].tolist() == [12.0, 13, 14, 15]
