"""Default model, greedy: agentrt_cpu == SGLang's torch_native == HF transformers, token for token.

Four prompts, 64 new tokens each, sent one by one (cold) and then again as a concurrent batch
whose prompts are already cached (different cached prefixes in one batch).
"""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import torch

from agentrt.client.managed_server import ManagedServer
from agentrt.models import prepare_default_model

PROMPTS = [
    "Write a short story about a robot who learns to paint.",
    "Explain how a radix tree stores strings, step by step.",
    "List five tips for writing clean Python code and explain each.",
    "Describe the water cycle to a ten year old child in detail.",
]
NEW = 64


@pytest.fixture(scope="module")
def model_path():
    return prepare_default_model()


@pytest.fixture(scope="module")
def prompt_ids(model_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_path)
    texts = [tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                     add_generation_prompt=True) for p in PROMPTS]
    return [tok.encode(t, add_special_tokens=False) for t in texts]


def served_outputs(backend: str, prompt_ids) -> tuple[list, list]:
    def gen(url, ids):
        resp = requests.post(f"{url}/generate", json={
            "input_ids": ids, "sampling_params": {"max_new_tokens": NEW, "temperature": 0}},
            timeout=600)
        assert resp.status_code == 200, resp.text
        return resp.json()["output_ids"], resp.json()["meta_info"]["cached_tokens"]

    with ManagedServer(["--attention-backend", backend, "--max-total-tokens", "16384"]) as srv:
        cold = [gen(srv.url, ids) for ids in prompt_ids]
        with ThreadPoolExecutor(len(prompt_ids)) as pool:
            warm = list(pool.map(lambda ids: gen(srv.url, ids), prompt_ids))
    assert all(cached >= len(ids) - 1 for (_, cached), ids in zip(warm, prompt_ids))
    return [o for o, _ in cold], [o for o, _ in warm]


def test_greedy_tokens_equal_across_backends_and_hf(model_path, prompt_ids):
    from transformers import AutoModelForCausalLM

    ours_cold, ours_warm = served_outputs("agentrt_cpu", prompt_ids)
    native_cold, native_warm = served_outputs("torch_native", prompt_ids)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).eval()
    for i, ids in enumerate(prompt_ids):
        with torch.no_grad():
            hf = model.generate(torch.tensor([ids]), max_new_tokens=NEW, do_sample=False,
                                eos_token_id=model.generation_config.eos_token_id,
                                pad_token_id=model.generation_config.pad_token_id)
        hf_out = hf[0, len(ids):].tolist()
        assert len(hf_out) >= 32, "prompts are chosen to give long answers"
        assert ours_cold[i] == hf_out, f"prompt {i}: agentrt_cpu (cold) differs from HF"
        assert ours_warm[i] == hf_out, f"prompt {i}: agentrt_cpu (cached, batched) differs"
        assert native_cold[i] == hf_out and native_warm[i] == hf_out, \
            f"prompt {i}: torch_native differs from HF"


def test_lookahead_commit_greedy_equals_full_prefill(model_path):
    """Default model: the commit request over a prepared branch generates exactly the tokens a
    full prefill of the same transformed context generates (HF transformers, no cache)."""
    import asyncio

    from transformers import AutoModelForCausalLM

    from agentrt.lookahead.client import AgentrtClient
    from agentrt.lookahead.runtime import LookaheadRuntime
    from agentrt.lookahead.strategies import ClearToolResults
    from agentrt.lookahead.strategy import ContextBudget

    files = ["README.md", "Makefile", "docs/structures.md"]
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    msgs = [{"role": "system", "content": "You review code. Answer in plain English."}]
    for f in files:
        msgs += [{"role": "assistant", "content": f'<tool_call>{{"name": "read_file", '
                                                  f'"arguments": {{"path": "{f}"}}}}</tool_call>'},
                 {"role": "tool", "content": (root / f).read_text()[:1500]}]
    msgs.append({"role": "user", "content": "What does this project do? Answer in detail."})

    async def scenario(url):
        client = AgentrtClient(url)
        strategy = ClearToolResults(ContextBudget(10_000), keep_last=1)
        rt = LookaheadRuntime(client, strategy, session_id="e2e-exact", capacity_aware=False)
        tokens = len(await client.tokenize(msgs))
        strategy.budget = ContextBudget(int(tokens / 0.7))
        await rt.on_segment_boundary(msgs)
        await rt.wait_prepared()
        strategy.budget = ContextBudget(tokens)
        result = await rt.on_commit(msgs)
        ids = await client.tokenize(result, add_generation_prompt=True)
        resp = requests.post(f"{url}/generate", json={
            "input_ids": ids, "session_id": rt.session_id,
            "sampling_params": {"max_new_tokens": NEW, "temperature": 0}}, timeout=600).json()
        record = rt.records[-1]
        await rt.close()
        await client.close()
        return record, ids, resp

    with ManagedServer(["--max-total-tokens", "16384"]) as srv:
        record, ids, resp = asyncio.run(scenario(srv.url))
    assert record.outcome == "ready"
    assert resp["meta_info"]["cached_tokens"] == record.prepared_tokens
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).eval()
    with torch.no_grad():
        hf = model.generate(torch.tensor([ids]), max_new_tokens=NEW, do_sample=False,
                            eos_token_id=model.generation_config.eos_token_id,
                            pad_token_id=model.generation_config.pad_token_id)
    assert resp["output_ids"] == hf[0, len(ids):].tolist()
