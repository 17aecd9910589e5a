"""A prompt that arrives while another request decodes is prefilled in bounded chunks
(``--agentrt-fg-max-chunk-ms``), on a live server: in mixed steps that decode the running
request beside each chunk (SGLang's ``--enable-mixed-chunk``, which the bound turns on), or, where
SGLang cannot mix (a request asking for logprobs), with a decode step after each chunk. Either
way the tokens are the ones a request served alone gets, and no step the decoding request
waited for held more than one chunk."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from agentrt.client.managed_server import ManagedServer
from agentrt.server.scheduling.policy import BgPolicy

from .hf_reference import assert_matches_hf, served_continuation

CHUNK = BgPolicy().min_chunk_tokens    # a 1 ms bound: every chunk is the minimum
PROMPT_TOKENS = 1200


def ids(seed: int, n: int) -> list[int]:
    return [1] + [(seed * 131 + i * 17) % 480 + 20 for i in range(n - 1)]


@pytest.fixture(scope="module")
def url(tiny_model, tmp_path_factory):
    args = ["--model-path", str(tiny_model), "--max-total-tokens", "16384",
            "--agentrt-fg-max-chunk-ms", "1"]
    log = tmp_path_factory.mktemp("bounded") / "server.log"
    with ManagedServer(args, log_path=log) as srv:
        for seed in (11, 12):                 # prefill steps the server's rate is taken from
            resp = requests.post(f"{srv.url}/generate", json={
                "input_ids": ids(seed, 300), "sampling_params": {"max_new_tokens": 1}},
                timeout=120)
            assert resp.status_code == 200, resp.text
        yield srv.url


def _stats(url):
    return requests.get(f"{url}/agentrt/scheduler", timeout=30).json()["stats"]


def _generate(url, tokens, new_tokens):
    resp = requests.post(f"{url}/generate", json={
        "input_ids": tokens, "sampling_params": {
            "max_new_tokens": new_tokens, "temperature": 0, "ignore_eos": True}}, timeout=300)
    assert resp.status_code == 200, resp.text
    return resp.json()["output_ids"]


def _beside_decoding(url, seed, serve):
    """``serve()`` while a request of 600 new tokens decodes; (its result, the decoded ids,
    whether the decoding request was still running when ``serve`` returned)."""
    with ThreadPoolExecutor(1) as pool:
        decoding = pool.submit(_generate, url, ids(seed, 40), 600)
        time.sleep(0.5)                       # it decodes when the prompt arrives
        served = serve()
        still_decoding = not decoding.done()
        return served, decoding.result(), still_decoding


def _assert_bounded(url, before):
    after = _stats(url)
    assert after["stalls"] - before["stalls"] >= PROMPT_TOKENS // CHUNK
    assert all(s["prefill_tokens"] <= CHUNK for s in after["longest_stalls"])
    assert requests.get(f"{url}/agentrt/radix/integrity", timeout=60).json() == {"ok": True}
    return after


def test_mixed_steps_decode_beside_each_chunk_and_change_no_token(url):
    prompt = ids(7, PROMPT_TOKENS)
    alone_prompt, alone_decoded = _generate(url, prompt, 8), _generate(url, ids(3, 40), 600)
    requests.post(f"{url}/flush_cache", timeout=60)
    before = _stats(url)
    served, decoded, still_decoding = _beside_decoding(url, 3,
                                                       lambda: _generate(url, prompt, 8))
    assert still_decoding, "the decoding request ended before the prompt was served"
    assert served == alone_prompt and decoded == alone_decoded
    after = _assert_bounded(url, before)
    # every chunk decoded the running request beside it: no decode step spent between them
    assert after["prefills_deferred"] - before["prefills_deferred"] <= 2


def test_without_mixing_a_decode_step_follows_each_chunk(url, hf_model):
    # a request asking for logprobs is never mixed by SGLang
    prompt = ids(8, PROMPT_TOKENS)
    before = _stats(url)
    served, _, still_decoding = _beside_decoding(
        url, 4, lambda: served_continuation(url, prompt, 0))
    assert still_decoding, "the decoding request ended before the prompt was served"
    prompt_lp, out_ids, out_lp, cached = served
    assert cached == 0
    assert_matches_hf(hf_model, prompt, 0, prompt_lp, out_ids, out_lp)
    after = _assert_bounded(url, before)
    assert after["prefills_deferred"] - before["prefills_deferred"] >= PROMPT_TOKENS // CHUNK - 1
