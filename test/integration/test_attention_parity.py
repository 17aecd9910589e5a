"""The served tiny model (agentrt_cpu attention) matches HF transformers within fp32 tolerance.

Random-weight logits are nearly flat, so greedy text is not a stable signal; instead the server's
log-probabilities of a fixed continuation are compared with HF's, for cold prompts, prompts whose
prefix is cached, and a batch of concurrent requests with different cached prefixes.
"""
from concurrent.futures import ThreadPoolExecutor

import requests
import torch

from .hf_reference import TOL, hf_logprobs


def server_logprobs(url, ids: list[int], start: int) -> tuple[list[float], int]:
    """Prompt log-probabilities from ``start`` on, as SGLang reports them, and cached tokens."""
    resp = requests.post(f"{url}/generate", json={
        "input_ids": ids, "return_logprob": True, "logprob_start_len": start,
        "sampling_params": {"max_new_tokens": 1, "temperature": 0}}, timeout=120)
    assert resp.status_code == 200, resp.text
    meta = resp.json()["meta_info"]
    return [lp for lp, _, _ in meta["input_token_logprobs"] if lp is not None], \
        meta["cached_tokens"]


def ids_for(seed: int, n: int) -> list[int]:
    g = torch.Generator().manual_seed(seed)
    return [1] + torch.randint(3, 500, (n - 1,), generator=g).tolist()


def test_cold_prompt_matches_hf(url, hf_model):
    ids = ids_for(1, 300)
    got, _ = server_logprobs(url, ids, 0)
    want = hf_logprobs(hf_model, ids)
    assert len(got) == len(want)
    assert max(abs(a - b) for a, b in zip(got, want)) < TOL


def test_extend_on_cached_prefix_matches_hf(url, hf_model):
    prefix = ids_for(2, 700)
    server_logprobs(url, prefix, len(prefix) - 1)            # cache the prefix
    ids = prefix + ids_for(3, 120)[1:]
    got, cached = server_logprobs(url, ids, len(prefix))
    assert cached >= len(prefix) - 1
    want = hf_logprobs(hf_model, ids)[len(prefix):]
    assert len(got) == len(want) > 100  # positions start+1 .. end
    assert max(abs(a - b) for a, b in zip(got, want)) < TOL


def test_batch_with_different_cached_prefixes_matches_hf(url, hf_model):
    prefixes = [ids_for(10 + i, 100 + 250 * i) for i in range(4)]
    for p in prefixes:
        server_logprobs(url, p, len(p) - 1)
    full = [p + ids_for(20 + i, 60)[1:] for i, p in enumerate(prefixes)]
    with ThreadPoolExecutor(len(full)) as pool:
        results = list(pool.map(lambda f: server_logprobs(url, f[1], len(prefixes[f[0]])),
                                enumerate(full)))
    for (got, cached), p, ids in zip(results, prefixes, full):
        assert cached >= len(p) - 1
        want = hf_logprobs(hf_model, ids)[len(p):]
        assert len(got) == len(want)
        assert max(abs(a - b) for a, b in zip(got, want)) < TOL


def test_decode_greedy_tokens_match_hf(url, hf_model):
    ids = ids_for(5, 200)
    resp = requests.post(f"{url}/generate", json={
        "input_ids": ids, "return_logprob": True,
        "sampling_params": {"max_new_tokens": 24, "temperature": 0, "ignore_eos": True}},
        timeout=120).json()
    out_ids = [t for _, t, _ in resp["meta_info"]["output_token_logprobs"]]
    out_lp = [lp for lp, _, _ in resp["meta_info"]["output_token_logprobs"]]
    want = hf_logprobs(hf_model, ids + out_ids)[len(ids) - 1:]
    assert max(abs(a - b) for a, b in zip(out_lp, want)) < TOL
