"""The work ledger against the real scheduler: it sums to the prefill SGLang itself counted, and
classifies each request's tokens by purpose (radix/ledger.py)."""
import requests
from prometheus_client.parser import text_string_to_metric_families

SYSTEM = [1] + list(range(40, 100))           # ids no other test sends first
TURNS = list(range(100, 260))
SUMMARY = list(range(270, 300))


def post(url, path, body=None):
    resp = requests.post(url + path, json=body, timeout=120)
    assert resp.status_code == 200, resp.text
    return resp.json()


def generate(url, ids, session):
    body = {"input_ids": ids, "session_id": session,
            "sampling_params": {"max_new_tokens": 2, "temperature": 0}}
    meta = post(url, "/generate", body)["meta_info"]
    return meta["prompt_tokens"] - meta["cached_tokens"]


def ledger(url) -> dict:
    return requests.get(url + "/agentrt/scheduler", timeout=30).json()["ledger"]


def metrics(url) -> dict:
    """(metric name, label value) -> value summed over SGLang's other labels."""
    text = requests.get(url + "/metrics", timeout=30).text
    found: dict = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            label = sample.labels.get("mode") or sample.labels.get("purpose") \
                or sample.labels.get("reason")
            found[(sample.name, label)] = found.get((sample.name, label), 0) + sample.value
    return found


def sglang_prefill(url) -> float:
    return metrics(url).get(("sglang:realtime_tokens_total", "prefill_compute"), 0.0)


def delta(after: dict, before: dict, key: str) -> dict:
    return {k: after[key][k] - before[key][k] for k in after[key]}


def test_ledger_sums_to_the_prefill_sglang_ran_and_splits_it_by_purpose(url):
    before, sglang_before = ledger(url), sglang_prefill(url)
    post(url, "/agentrt/sessions", {"session_id": "led-1", "tokens": SYSTEM + TURNS})
    try:
        first = generate(url, SYSTEM + TURNS, "led-1")
        second = generate(url, SYSTEM + TURNS + [300, 301, 302], "led-1")
        rewrite = generate(url, SYSTEM + SUMMARY + [303], "led-1")     # a synchronous transform
        branch = post(url, "/agentrt/sessions/led-1/prepare", {
            "tokens": SYSTEM + SUMMARY + [303, 310, 311, 312], "strategy": "summary",
            "version": 1, "wait": True})
        assert branch["state"] == "ready"
        loser = post(url, "/agentrt/sessions/led-1/prepare", {
            "tokens": SYSTEM + list(range(320, 340)), "strategy": "window", "version": 1,
            "wait": True})
        post(url, f"/agentrt/sessions/led-1/branches/{branch['id']}/commit")
        commit_turn = generate(url, SYSTEM + SUMMARY + [303, 310, 311, 312, 313], "led-1")
    finally:
        requests.delete(url + "/agentrt/sessions/led-1", timeout=30)
    after = ledger(url)
    prefilled = delta(after, before, "prefilled")
    assert after["total"] - before["total"] == sglang_prefill(url) - sglang_before
    assert prefilled["fg_new"] == first + second + commit_turn
    assert prefilled["fg_rewrite"] == rewrite == len(SUMMARY) + 1
    assert prefilled["prepare"] == 3 + 20 and prefilled["catch_up"] == 0
    assert commit_turn == 1 and prefilled["fg_recompute"] == 0
    # the losing branch went stale at the commit: its 20 tokens are waste; the winner's are not
    assert delta(after, before, "wasted") == {**{k: 0 for k in after["wasted"]},
                                              "not_committed": 20}


def test_ledger_is_on_sglangs_own_metrics_endpoint(url):
    generate(url, [1, 7, 8, 9], "no-such-session")     # a session agentrt does not track
    found, now = metrics(url), ledger(url)
    for purpose, tokens in now["prefilled"].items():
        assert found.get(("agentrt:prefill_tokens_total", purpose), 0) == tokens
    assert now["prefilled"]["fg_new"] > 0


def test_a_commit_aborts_the_catch_up_it_overtakes(url):
    """The commit request carries the catch-up's tokens: a catch-up still prefilling is
    aborted, its landed part stays for the commit request, the tree stays whole."""
    ctx = [1] + list(range(40, 140))
    post(url, "/agentrt/sessions", {"session_id": "led-2", "tokens": ctx})
    try:
        generate(url, ctx, "led-2")
        branch = post(url, "/agentrt/sessions/led-2/prepare", {
            "tokens": ctx[:20] + [300, 301], "strategy": "window", "version": 1, "wait": True})
        tail = [(i * 7) % 400 + 50 for i in range(3000)]      # a long catch-up, not waited on
        post(url, f"/agentrt/sessions/led-2/branches/{branch['id']}/append",
             {"tokens": tail, "wait": False})
        committed = post(url, f"/agentrt/sessions/led-2/branches/{branch['id']}/commit")
        assert committed["catch_up_aborted"] is True
        assert committed["branch"]["tokens"] == 22     # the catch-up had not landed
        out = generate(url, ctx[:20] + [300, 301] + tail + [5], "led-2")
        assert out > 0
    finally:
        requests.delete(url + "/agentrt/sessions/led-2", timeout=30)
    check = requests.get(url + "/agentrt/radix/integrity", timeout=60)
    assert check.status_code == 200 and check.json() == {"ok": True}, check.text
