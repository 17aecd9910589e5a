"""AGENTSAM speculative decoding is exact: a real server, greedy, on vs off, token for token.

Two servers on the tiny model, one after the other (same flags except the speculative ones):
the same workload (single prompts, a batch, prompts extending a cached prefix, a second round
over the same prompts) runs on each; outputs must be identical, the speculative server must
have accepted drafts, and its tree must pass ``check_integrity`` afterwards (rejected drafts
leak no KV). The plugin registers AGENTSAM in every SGLang process of `agentrt serve`.
"""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from agentrt.client.managed_server import ManagedServer

pytestmark = pytest.mark.integration

MAX_NEW = 64
SPEC_FLAGS = ["--speculative-algorithm", "AGENTSAM", "--speculative-num-draft-tokens", "6"]

# repetitive, agent-like texts: drafts from the request's own context get accepted
SYSTEM = ("You are a coding agent. Tools: read_file(path), list_files(dir), run_tests(). "
          "Answer with one tool call per turn.\n")
OBSERVATION = ("read_file('src/app/models.py') ->\nclass User:\n    def __init__(self, name):\n"
               "        self.name = name\n\nclass Order:\n    def __init__(self, user, items):\n"
               "        self.user = user\n        self.items = items\n")
PROMPTS = [
    SYSTEM + OBSERVATION + "Next call: read_file('src/app/models.py') -> class User:",
    "def add(a, b):\n    return a + b\n\ndef add(a, b):\n    return a + b\n\ndef add(",
    "the cat sat on the mat. the cat sat on the mat. the cat sat on the",
    "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,",
]
BATCH = [SYSTEM + OBSERVATION + f"Turn {i}: list_files('src/app') ->" for i in range(4)]
EXTENDED = [SYSTEM + OBSERVATION + "Next call: run_tests() -> 3 passed\nNext call:",
            PROMPTS[0] + " def __init__(self, name):"]


def generate(url: str, text, temperature: float = 0.0):
    body = {"text": text,
            "sampling_params": {"max_new_tokens": MAX_NEW, "temperature": temperature}}
    out = requests.post(url + "/generate", json=body, timeout=600)
    out.raise_for_status()
    return out.json()


def run_workload(url: str) -> dict:
    """Every output's token ids and meta_info, by scenario."""
    results = {"single": [generate(url, p) for p in PROMPTS]}
    results["batch"] = generate(url, BATCH)                         # one batched request
    with ThreadPoolExecutor(4) as pool:                              # concurrent requests
        results["concurrent"] = list(pool.map(lambda p: generate(url, p), PROMPTS))
    results["extended"] = [generate(url, p) for p in EXTENDED]       # on cached prefixes
    results["again"] = [generate(url, p) for p in PROMPTS]           # fully cached prompts
    # greedy requests sharing decode batches with sampled ones (the sampled batch path)
    with ThreadPoolExecutor(6) as pool:
        greedy = [pool.submit(generate, url, p) for p in PROMPTS]
        sampled = [pool.submit(generate, url, p, 1.0) for p in PROMPTS[:2]]
        results["mixed"] = [f.result() for f in greedy]
        results["sampled"] = [f.result() for f in sampled]
    integrity = requests.get(url + "/agentrt/radix/integrity", timeout=120)
    results["integrity"] = (integrity.status_code, integrity.json())
    return results


NOT_COMPARED = ("integrity", "sampled")


def outputs(results: dict) -> dict:
    return {k: [r["output_ids"] for r in v] for k, v in results.items()
            if k not in NOT_COMPARED}


def metas(results: dict) -> list[dict]:
    return [r["meta_info"] for k, v in results.items() if k != "integrity" for r in v]


@pytest.fixture(scope="module")
def runs(tiny_model, tmp_path_factory):
    logs = tmp_path_factory.mktemp("speculative")
    base = ["--model-path", str(tiny_model), "--max-total-tokens", "32768"]
    got = {}
    for name, extra in (("off", []), ("on", SPEC_FLAGS)):
        with ManagedServer(base + extra, log_path=logs / f"{name}.log") as srv:
            got[name] = run_workload(srv.url)
    return got


def test_greedy_outputs_identical_with_and_without_speculation(runs):
    off, on = outputs(runs["off"]), outputs(runs["on"])
    for scenario in off:
        assert len(off[scenario]) == len(on[scenario])
        for i, (a, b) in enumerate(zip(off[scenario], on[scenario])):
            assert a == b, f"{scenario}[{i}]: off {a} != on {b}"


def test_speculation_really_ran_and_accepted_drafts(runs):
    on = metas(runs["on"])
    assert all(m["spec_verify_ct"] > 0 for m in on)
    accepted = sum(m["spec_num_correct_drafts"] for m in on)
    assert accepted > 0
    # fewer verify steps than tokens overall: accepted drafts saved forward passes
    assert sum(m["spec_verify_ct"] for m in on) < sum(m["completion_tokens"] for m in on)
    assert all(m.get("spec_verify_ct", 0) == 0 for m in metas(runs["off"]))


def test_cached_prefixes_were_reused_under_speculation(runs):
    on = runs["on"]
    assert all(r["meta_info"]["cached_tokens"] > 0 for r in on["extended"])
    assert all(r["meta_info"]["cached_tokens"] >= r["meta_info"]["prompt_tokens"] - 1
               for r in on["again"])


def test_sampled_requests_are_sampled_not_greedy_under_speculation(runs):
    """SGLang's CPU verify is greedy-only: AGENTSAM must decode sampled requests by sampling."""
    for run in ("off", "on"):
        greedy = [r["output_ids"] for r in runs[run]["single"][:2]]
        sampled = [r["output_ids"] for r in runs[run]["sampled"]]
        assert sampled != greedy, f"{run}: temperature 1.0 produced the greedy outputs"


def test_no_kv_leak_after_speculative_decoding(runs):
    assert runs["on"]["integrity"] == (200, {"ok": True})
    assert runs["off"]["integrity"] == (200, {"ok": True})
