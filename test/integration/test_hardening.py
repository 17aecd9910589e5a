"""No request takes the server down; every bad input gets a 4xx and changes nothing.

Each class of hostile request found by an adversarial client, against the real server: after
each, the server is healthy, the tree passes its integrity check and nothing was half-applied."""
import json
import threading

import pytest
import requests

SYSTEM = [1] + list(range(20, 60))
VOCAB = 512          # the tiny model's (agentrt.testing.tiny_model.TinySpec)
CONTEXT = 8192


def raw_post(url, path, data, **headers):
    return requests.post(url + path, data=data, timeout=120,
                         headers={"content-type": "application/json", **headers})


def healthy(url):
    assert requests.get(url + "/health", timeout=30).status_code == 200
    integrity = requests.get(url + "/agentrt/radix/integrity", timeout=60)
    assert integrity.status_code == 200 and integrity.json() == {"ok": True}, integrity.text


def refused(resp, status, words):
    assert resp.status_code == status, resp.text
    assert words in resp.json()["error"], resp.text


GEN = {"sampling_params": {"max_new_tokens": 2, "temperature": 0}}


@pytest.mark.parametrize("path, body, words", [
    ("/generate", dict(GEN, input_ids=[-1, 2, 3]), "token id -1"),
    ("/generate", dict(GEN, input_ids=[1, 2, VOCAB]), f"token id {VOCAB}"),
    ("/generate", dict(GEN, input_ids=[[1, 2], [99999]]), "input_ids[1]"),
    ("/generate", dict(GEN, input_ids=[[1, 2], []]), "must not be empty"),
    ("/generate", dict(GEN, text=""), "'text' must not be empty"),
    ("/generate", dict(GEN, text=["hi", ""]), "'text[1]' must not be empty"),
    ("/v1/completions", {"model": "m", "prompt": [-5], "max_tokens": 2}, "token id -5"),
    ("/v1/completions", {"model": "m", "prompt": [100000], "max_tokens": 2}, "token id 100000"),
    ("/generate", dict(input_ids=[1, 2], sampling_params={"max_new_tokens": 2, "top_k": 10**12}),
     "'sampling_params.top_k' must be in [-1, 512]"),
    ("/generate", dict(GEN, input_ids=[1, 2], return_logprob=True, top_logprobs_num=10**9),
     "'top_logprobs_num' must be in [0, 512]"),
    ("/generate", dict(GEN, input_ids=[1, 2], return_logprob=True, logprob_start_len=-5),
     "'logprob_start_len' must be >= -1"),
    ("/generate", dict(GEN, input_ids=[1, 2], rid=["a", "b"]), "'rid' must be a string"),
    ("/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "hi"}],
                              "max_tokens": 2, "logprobs": True, "top_logprobs": 10**6},
     "'top_logprobs' must be in [0, 512]"),
])
def test_prompts_that_crashed_the_scheduler_are_400(url, path, body, words):
    refused(requests.post(url + path, json=body, timeout=60), 400, words)
    healthy(url)
    ok = requests.post(url + "/generate", json=dict(GEN, input_ids=[1, 2, 3]), timeout=60)
    assert ok.status_code == 200 and len(ok.json()["output_ids"]) == 2


AGENTRT_POSTS = ["/agentrt/sessions", "/agentrt/tokenize", "/agentrt/sessions/h1/prepare",
                 "/agentrt/sessions/h1/branches/b1/append", "/agentrt/sessions/h1/pin",
                 "/agentrt/sessions/h1/branches/b1/abandon", "/agentrt/radix/view.json"]


@pytest.mark.parametrize("data", ["[1, 2]", '"text"', "5", "null", "true"])
@pytest.mark.parametrize("path", AGENTRT_POSTS)
def test_non_object_bodies_are_400(url, path, data):
    refused(raw_post(url, path, data), 400, "must be a JSON object")


@pytest.mark.parametrize("data", ["[" * 100_000 + "]" * 100_000,
                                  '{"a":' * 100_000 + "1" + "}" * 100_000,
                                  '{"a":' * 65 + "1" + "}" * 65])
@pytest.mark.parametrize("path", AGENTRT_POSTS + ["/generate", "/v1/chat/completions",
                                                  "/v1/completions", "/v1/messages"])
def test_deep_json_is_400(url, path, data):
    refused(raw_post(url, path, data), 400, "nests deeper than 64 levels")


@pytest.mark.parametrize("data, words", [
    ('{"session_id": "h2", "ttl_s": NaN}', "not valid JSON"),
    ('{"ttl_s": Infinity}', "not valid JSON"), ('{"ttl_s": 1e999}', "not valid JSON"),
    ('{"ttl_s": -1}', "'ttl_s' must be >= 0"), ('{"ttl_s": "1"}', "'ttl_s' must be a number")])
def test_pin_ttl_must_be_finite_and_non_negative(url, data, words):
    requests.post(url + "/agentrt/sessions", json={"session_id": "h2", "tokens": SYSTEM},
                  timeout=30)
    refused(raw_post(url, "/agentrt/sessions/h2/pin", data), 400, words)
    assert requests.get(url + "/agentrt/sessions/h2", timeout=30).json()["pin"] is None
    assert requests.get(url + "/agentrt/radix", timeout=60).status_code == 200


@pytest.mark.parametrize("extra, words", [
    ({"agent_hints": {"step_index": -1}}, "'agent_hints.step_index' must be >= 0"),
    ({"agent_hints": {"expected_tool_duration_ms": -2}}, "must be >= 0"),
    ({"program_id": "a/b"}, "'program_id' must be 1-128 characters"),
])
def test_agent_fields_out_of_range_are_400(url, extra, words):
    refused(requests.post(url + "/generate", json=dict(GEN, text="hi", **extra), timeout=60),
            400, words)
    refused(raw_post(url, "/generate", '{"text": "hi", "slo_ttft_ms": NaN}'), 400,
            "not valid JSON")


def test_session_ids_are_addressable_and_bounded(url):
    for sid in ("a/b", "x" * 129, "", "sp ace", "ünï"):
        refused(requests.post(url + "/agentrt/sessions", json={"session_id": sid},
                              timeout=30), 400, "'session_id' must be 1-128 characters")
    refused(requests.get(url + "/agentrt/sessions/" + "y" * 129, timeout=30), 400,
            "'session_id' must be 1-128 characters")
    assert requests.post(url + "/agentrt/sessions", json={"session_id": "ok:1@a.b-c_d"},
                         timeout=30).status_code == 200
    assert requests.delete(url + "/agentrt/sessions/ok:1@a.b-c_d", timeout=30).json()["closed"]


def test_contexts_and_branches_fit_the_model(url):
    refused(requests.post(url + "/agentrt/sessions",
                          json={"session_id": "h3", "tokens": [5] * (CONTEXT + 1)}, timeout=60),
            413, f"at most {CONTEXT}")
    requests.post(url + "/agentrt/sessions", json={"session_id": "h3", "tokens": SYSTEM},
                  timeout=30)
    refused(requests.post(url + "/agentrt/sessions/h3/prepare", json={
        "tokens": SYSTEM + [7] * CONTEXT, "strategy": "s", "version": 1}, timeout=60),
        413, f"at most {CONTEXT}")
    branch = requests.post(url + "/agentrt/sessions/h3/prepare", json={
        "tokens": SYSTEM + [7] * 10, "strategy": "s", "version": 1, "wait": True},
        timeout=60).json()
    assert "id" in branch, branch
    refused(requests.post(url + f"/agentrt/sessions/h3/branches/{branch['id']}/append",
                          json={"tokens": [8] * (CONTEXT - 20)}, timeout=60), 413,
            f"at most {CONTEXT}")
    status = requests.get(url + "/agentrt/sessions/h3", timeout=30).json()
    assert [(b["state"], b["tokens"]) for b in status["branches"]] == [("ready", len(SYSTEM) + 10)]
    requests.delete(url + "/agentrt/sessions/h3", timeout=30)
    healthy(url)


def test_refused_requests_create_no_branch(url):
    """Every field is validated before the first change: a bad 'wait' used to leave a branch
    stuck in 'preparing', a bad append a catch-up that never ended."""
    requests.post(url + "/agentrt/sessions", json={"session_id": "h4", "tokens": SYSTEM},
                  timeout=30)
    refused(requests.post(url + "/agentrt/sessions/h4/prepare", json={
        "tokens": SYSTEM + [9, 9], "strategy": "s", "version": 1, "wait": "yes"}, timeout=30),
        400, "'wait' must be a boolean")
    assert requests.get(url + "/agentrt/sessions/h4", timeout=30).json()["branches"] == []
    branch = requests.post(url + "/agentrt/sessions/h4/prepare", json={
        "tokens": SYSTEM + [9, 9], "strategy": "s", "version": 1, "wait": True},
        timeout=60).json()
    refused(requests.post(url + f"/agentrt/sessions/h4/branches/{branch['id']}/append",
                          json={"tokens": [3], "wait": 1}, timeout=30), 400, "'wait'")
    after = requests.get(url + "/agentrt/sessions/h4", timeout=30).json()["branches"]
    assert [(b["state"], b["tokens"], b["catching_up"]) for b in after] == \
        [("ready", len(SYSTEM) + 2, False)]
    requests.delete(url + "/agentrt/sessions/h4", timeout=30)
    healthy(url)


def test_radix_view_inputs_are_400(url):
    refused(requests.get(url + "/agentrt/radix/view.json?match=" + "9" * 30, timeout=30), 400,
            "outside [0, 2^63)")
    beyond_vocab = requests.get(url + "/agentrt/radix/view.json?match=1,999999", timeout=30)
    assert beyond_vocab.status_code == 200 and beyond_vocab.json()["match"] is not None
    for snap in ({"nodes": [{"id": "x"}]}, {"nodes": [5]}, {"nodes": []}):
        resp = requests.post(url + "/agentrt/radix/view.json", json=snap, timeout=30)
        assert resp.status_code == 400, resp.text


def test_oversized_body_is_413_and_large_tokenize_leaves_the_loop_free(url):
    huge = b'{"text": "' + b"a" * (16 << 20) + b'"}'
    refused(raw_post(url, "/agentrt/tokenize", huge), 413, "at most")
    refused(raw_post(url, "/generate", huge), 413, "at most")
    big = json.dumps({"text": "word " * 1_500_000}).encode()     # 7.5 MB: seconds of tokenizing
    done = {}

    def tokenize():
        done["tokenize"] = raw_post(url, "/agentrt/tokenize", big)
    worker = threading.Thread(target=tokenize)
    worker.start()
    answered_during = False
    while worker.is_alive():
        answered_during |= requests.get(url + "/health", timeout=30).status_code == 200 \
            and worker.is_alive()
    worker.join()
    assert done["tokenize"].status_code == 200 and len(done["tokenize"].json()["tokens"]) > 0
    assert answered_during


def test_api_key_covers_every_agentrt_route(tiny_model, tmp_path):
    """With --api-key, SGLang's auth middleware runs before agentrt's guard: no /agentrt/* route
    answers (or parses a body) without the key; /health stays open for probes."""
    from agentrt.client.managed_server import ManagedServer

    args = ["--model-path", str(tiny_model), "--max-total-tokens", "4096", "--api-key", "k3y"]
    with ManagedServer(args, log_path=tmp_path / "auth.log") as srv:
        key = {"Authorization": "Bearer k3y"}
        for method, path in [("GET", "/agentrt/info"), ("GET", "/agentrt/radix"),
                             ("GET", "/agentrt/scheduler"), ("GET", "/agentrt/metrics"),
                             ("POST", "/agentrt/sessions"), ("POST", "/agentrt/tokenize"),
                             ("GET", "/agentrt/radix/view.json"), ("GET", "/agentrt/sessions/x"),
                             ("POST", "/generate")]:
            resp = requests.request(method, srv.url + path, data="[" * 10_000, timeout=60)
            assert resp.status_code == 401, (path, resp.status_code, resp.text)
        assert requests.get(srv.url + "/health", timeout=30).status_code == 200
        resp = requests.post(srv.url + "/agentrt/sessions", json={"session_id": "k1"},
                             headers=key, timeout=30)
        assert resp.status_code == 200 and resp.json()["session_id"] == "k1"
        assert requests.get(srv.url + "/agentrt/sessions/k1", headers=key,
                            timeout=30).status_code == 200
