"""A prompt that arrives while another request decodes is prefilled in bounded chunks, a decode
step after each (``--agentrt-fg-max-chunk-ms``), on a live server: its logprobs still match a
full prefill (HF), and no step the decoding request waited for held more than one chunk."""
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from agentrt.client.managed_server import ManagedServer
from agentrt.server.scheduling.policy import BgPolicy

from .hf_reference import assert_matches_hf, served_continuation

CHUNK = BgPolicy().min_chunk_tokens    # a 1 ms bound: every chunk is the minimum


def ids(seed: int, n: int) -> list[int]:
    return [1] + [(seed * 131 + i * 17) % 480 + 20 for i in range(n - 1)]


def test_a_prompt_next_to_decoding_is_chunked_and_exact(tiny_model, hf_model, tmp_path):
    args = ["--model-path", str(tiny_model), "--max-total-tokens", "16384",
            "--agentrt-fg-max-chunk-ms", "1"]
    with ManagedServer(args, log_path=tmp_path / "bounded.log") as srv:
        url = srv.url

        def stats():
            return requests.get(f"{url}/agentrt/scheduler", timeout=30).json()["stats"]

        def decode(tokens):
            resp = requests.post(f"{url}/generate", json={
                "input_ids": tokens, "sampling_params": {
                    "max_new_tokens": 600, "temperature": 0, "ignore_eos": True}}, timeout=300)
            assert resp.status_code == 200, resp.text

        for seed in (11, 12):                 # prefill steps the server's rate is taken from
            resp = requests.post(f"{url}/generate", json={
                "input_ids": ids(seed, 300), "sampling_params": {"max_new_tokens": 1}},
                timeout=120)
            assert resp.status_code == 200, resp.text
        prompt = ids(7, 1200)
        with ThreadPoolExecutor(1) as pool:
            decoding = pool.submit(decode, ids(3, 40))
            time.sleep(0.5)                   # it decodes when the prompt arrives
            continuation = served_continuation(url, prompt, 0)
            still_decoding = not decoding.done()
            decoding.result()
        prompt_lp, out_ids, out_lp, cached = continuation
        assert cached == 0
        assert_matches_hf(hf_model, prompt, 0, prompt_lp, out_ids, out_lp)
        after = stats()
        assert still_decoding, "the decoding request ended before the prompt was served"
        # 1,200 tokens in chunks of the minimum, a decode step put before each chunk after the
        # first; every step the decoding request waited for held one chunk at most
        assert after["prefills_deferred"] >= len(prompt) // CHUNK - 1
        assert after["stalls"] >= len(prompt) // CHUNK
        assert all(s["prefill_tokens"] <= CHUNK for s in after["longest_stalls"])
        assert requests.get(f"{url}/agentrt/radix/integrity", timeout=60).json() == {"ok": True}
