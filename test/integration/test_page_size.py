"""Page size 16 on a live server: the lookahead tree and the agentrt_cpu kernel still agree with
a full prefill (HF), and a commit reuses every whole page of the prepared branch."""
import requests

from agentrt.client.managed_server import ManagedServer

from .hf_reference import assert_matches_hf, served_continuation

SYSTEM = [1] + list(range(20, 120))
SUMMARY = list(range(340, 390))


def test_paged_server_prepare_commit_and_parity(tiny_model, hf_model, tmp_path):
    args = ["--model-path", str(tiny_model), "--max-total-tokens", "8192", "--page-size", "16"]
    with ManagedServer(args, log_path=tmp_path / "paged.log") as srv:
        url = srv.url
        post = lambda path, body=None: requests.post(url + path, json=body, timeout=120)  # noqa
        assert post("/agentrt/sessions", {"session_id": "p", "tokens": SYSTEM}).status_code == 200
        branch = post("/agentrt/sessions/p/prepare", {"tokens": SYSTEM + SUMMARY,
                                                      "strategy": "summary", "version": 1,
                                                      "wait": True}).json()
        assert branch["state"] == "ready"
        post(f"/agentrt/sessions/p/branches/{branch['id']}/commit")
        ids = SYSTEM + SUMMARY + [400, 401, 402]
        start = len(SYSTEM + SUMMARY) // 16 * 16
        prompt_lp, out_ids, out_lp, cached = served_continuation(url, ids, start, session="p")
        assert cached == start                     # every whole page of the branch
        assert_matches_hf(hf_model, ids, start, prompt_lp, out_ids, out_lp)
        assert requests.get(f"{url}/agentrt/radix/integrity", timeout=60).json() == {"ok": True}
