"""The coding-agent example program on the default model: greedy outputs are the same with and
without the prepared KV.

The program runs once with its policy prepared by lookahead (real tools on this repository, a
commit inside three steps). Then the cache is flushed and every model call's prompt is sent
again, cold (a full prefill, no lookahead, no session): the greedy answers must be equal, token
for token, to what the program got over prepared and committed branches.
"""
import sys
from pathlib import Path

import requests
from agentrt import frontend
from agentrt.client.flush import flush_cache
from agentrt.client.managed_server import ManagedServer
from agentrt.lookahead.strategies import Offload
from agentrt.lookahead.strategies.offload import OffloadStore
from agentrt.lookahead.strategy import ContextBudget

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))
from coding_agent import REPO, coding_agent

NEW = 24


def cold_answer(url: str, prompt: str) -> str:
    resp = requests.post(f"{url}/generate", json={"text": prompt, "sampling_params": {
        "max_new_tokens": NEW, "temperature": 0, "stop": ["<|im_end|>"]}}, timeout=600)
    assert resp.status_code == 200, resp.text
    return resp.json()["text"]


def test_coding_agent_answers_equal_with_and_without_prepared_kv(tmp_path):
    with ManagedServer(["--max-total-tokens", "16384"]) as srv:
        backend = frontend.AgentrtBackend(srv.url)
        try:
            # (capacity_aware=False: every commit takes a prepared branch, the path this test
            # checks; with the check on, a commit right after its boundary takes the transform
            # and prefills it in its own request)
            agent = frontend.function(coding_agent, strategy=Offload(
                ContextBudget(1400), OffloadStore(tmp_path), limit_tokens=120),
                capacity_aware=False)
            state = agent.run(task="Find where ContextBudget is defined.", symbol="ContextBudget",
                              repo=str(REPO), max_steps=3, max_tokens=NEW, backend=backend)
            assert state.error() is None
            report = frontend.report(state)
        finally:
            backend.shutdown()
        outcomes = [c.outcome for c in report.commits]
        assert outcomes and set(outcomes) <= {"ready", "promoted"}, report.commits
        commit_calls = [c for c in report.calls if c.commit is not None]
        assert len(commit_calls) == len(outcomes)
        for call in commit_calls:   # the commit request starts from the prepared branch
            assert report.commits[call.commit].prepared_tokens > 0
            assert "[tool output offloaded to" in call.prompt
            if call.kind == "gen":  # (a select's scoring requests report no cached tokens)
                assert call.cached_tokens >= report.commits[call.commit].prepared_tokens
        gens = [c for c in report.calls if c.kind == "gen"]
        assert len(gens) == 4 and all(c.output for c in gens)
        flush_cache(srv.url)
        for call in gens:
            assert cold_answer(srv.url, call.prompt) == call.output, call.prompt[-300:]
        assert requests.get(f"{srv.url}/agentrt/sessions/{report.session_id}",
                            timeout=60).status_code == 404
