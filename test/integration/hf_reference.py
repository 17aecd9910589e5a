"""Reference log-probabilities from HF transformers (a full prefill, no cache) for parity tests."""
import requests
import torch

TOL = 2e-3  # max |logprob difference| in fp32 (different GEMM blocking, same math)


def hf_logprobs(model, ids: list[int]) -> list[float]:
    """log p(ids[i] | ids[:i]) for i >= 1."""
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double()
    logp = logits.log_softmax(-1)
    return [logp[i - 1, ids[i]].item() for i in range(1, len(ids))]


def served_continuation(url, ids: list[int], start: int, new: int = 8, session=None):
    """(prompt logprobs from ``start`` + 1 on, output ids, output logprobs, cached tokens)."""
    body = {"input_ids": ids, "return_logprob": True, "logprob_start_len": start,
            "sampling_params": {"max_new_tokens": new, "temperature": 0, "ignore_eos": True}}
    if session:
        body["session_id"] = session
    resp = requests.post(f"{url}/generate", json=body, timeout=120)
    assert resp.status_code == 200, resp.text
    meta = resp.json()["meta_info"]
    prompt = [lp for lp, _, _ in meta["input_token_logprobs"] if lp is not None]
    out = meta["output_token_logprobs"]
    return prompt, [t for _, t, _ in out], [lp for lp, _, _ in out], meta["cached_tokens"]


def assert_matches_hf(model, ids, start, prompt_lp, out_ids, out_lp):
    want = hf_logprobs(model, ids + out_ids)
    got = prompt_lp + out_lp
    ref = want[start:start + len(got)]
    assert len(ref) == len(got) and got
    assert max(abs(a - b) for a, b in zip(got, ref)) < TOL
