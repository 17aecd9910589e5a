"""KV-pool bookkeeping kernels that SGLang's CPU engine calls on every prefill and decode."""
import torch


def assign_req_to_token_pool_cpu(
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    start_offset: torch.Tensor,
    end_offset: torch.Tensor,
    out_cache_loc: torch.Tensor,
    pool_len: int,
) -> None:
    """Write newly allocated KV slots into the request-to-token table (in place).

    For request i (row ``req_pool_indices[i]`` of ``req_to_token``), columns
    ``start_offset[i]:end_offset[i]`` receive the next ``end - start`` entries of ``out_cache_loc``
    (entries are consumed in request order):

        out_cache_loc:  [ r0: e0-s0 slots | r1: e1-s1 slots | ... ]
        req_to_token[r0, s0:e0] <- first block;  req_to_token[r1, s1:e1] <- second block; ...

    Same contract as the Triton kernel ``assign_req_to_token_pool`` SGLang uses on GPU.
    """
    del pool_len  # the row width; bounds are checked by the indexing below
    starts = start_offset.to(torch.int64)
    lengths = end_offset.to(torch.int64) - starts
    total = int(lengths.clamp_min(0).sum())
    if total == 0:
        return
    lengths = lengths.clamp_min(0)
    rows = torch.repeat_interleave(req_pool_indices.to(torch.int64), lengths)
    # column of each written entry: start of its request + its rank inside the request
    first = torch.cumsum(lengths, 0) - lengths
    rank = torch.arange(total, dtype=torch.int64) - torch.repeat_interleave(first, lengths)
    cols = torch.repeat_interleave(starts, lengths) + rank
    req_to_token[rows, cols] = out_cache_loc[:total].to(req_to_token.dtype)
