import pytest
import torch

import sgl_kernel
from sgl_kernel import UnsupportedKernelError, assign_req_to_token_pool_cpu


def naive_assign(req_pool_indices, req_to_token, start, end, out_cache_loc):
    pt = 0
    for r, s, e in zip(req_pool_indices.tolist(), start.tolist(), end.tolist()):
        if e > s:
            req_to_token[r, s:e] = out_cache_loc[pt:pt + e - s]
            pt += e - s


@pytest.mark.parametrize("seed", range(20))
def test_assign_matches_reference(seed):
    g = torch.Generator().manual_seed(seed)
    rows, width = 16, 64
    batch = int(torch.randint(1, 9, (1,), generator=g))
    req = torch.randperm(rows, generator=g)[:batch]
    start = torch.randint(0, width // 2, (batch,), generator=g)
    length = torch.randint(0, width // 2, (batch,), generator=g)
    end = start + length
    out = torch.randint(1, 10_000, (int(length.sum()) + 3,), generator=g)
    got = torch.zeros(rows, width, dtype=torch.int32)
    want = got.clone()
    assign_req_to_token_pool_cpu(req, got, start, end, out, width)
    naive_assign(req, want, start, end, out.to(torch.int32))
    assert torch.equal(got, want)


def test_assign_all_empty_is_noop():
    table = torch.zeros(2, 4, dtype=torch.int32)
    assign_req_to_token_pool_cpu(torch.tensor([0, 1]), table, torch.tensor([2, 3]),
                                 torch.tensor([2, 3]), torch.empty(0, dtype=torch.int64), 4)
    assert table.abs().sum() == 0


def test_unsupported_kernel_imports_but_fails_clearly():
    from sgl_kernel import fused_experts  # what SGLang's MoE path imports

    with pytest.raises(UnsupportedKernelError, match="sgl_kernel.fused_experts"):
        fused_experts()
    assert "assign_req_to_token_pool_cpu" in sgl_kernel.IMPLEMENTED
    with pytest.raises(AttributeError):
        sgl_kernel.__missing_dunder__
