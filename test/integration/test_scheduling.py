"""The lookahead scheduler under load: several agents' foreground turns and background branch
preparation at once. Background work finishes, foreground requests all complete, and the
scheduler's hooks are live (admission counters, queue re-ordering, metrics)."""
import time
from concurrent.futures import ThreadPoolExecutor

import requests



def ids(seed: int, n: int) -> list[int]:
    return [1] + [(seed * 131 + i * 17) % 480 + 20 for i in range(n - 1)]


def test_background_finishes_while_foreground_is_served(url):
    before = requests.get(f"{url}/agentrt/scheduler", timeout=30).json()["stats"]
    sessions = [f"load-{i}" for i in range(4)]
    contexts = {s: ids(i + 1, 300) for i, s in enumerate(sessions)}
    for s in sessions:
        assert requests.post(f"{url}/agentrt/sessions", json={
            "session_id": s, "tokens": contexts[s]}, timeout=30).status_code == 200

    def foreground(session):
        latencies = []
        for turn in range(3):
            start = time.perf_counter()
            resp = requests.post(f"{url}/generate", json={
                "input_ids": contexts[session] + ids(turn + 50, 120), "session_id": session,
                "sampling_params": {"max_new_tokens": 4, "temperature": 0}}, timeout=120)
            assert resp.status_code == 200, resp.text
            latencies.append(time.perf_counter() - start)
        return latencies

    def background(session):
        resp = requests.post(f"{url}/agentrt/sessions/{session}/prepare", json={
            "tokens": contexts[session][:10] + ids(99, 1500)[1:], "strategy": "summary",
            "version": 1, "request_class": "bg"}, timeout=60)
        assert resp.status_code == 200, resp.text
        return resp.json()["id"]

    with ThreadPoolExecutor(8) as pool:
        branches = list(pool.map(background, sessions))
        fg = list(pool.map(foreground, sessions))
    assert all(len(lat) == 3 for lat in fg)
    deadline = time.monotonic() + 180
    states = {}
    while time.monotonic() < deadline:
        states = {s: next(b["state"] for b in requests.get(
            f"{url}/agentrt/sessions/{s}", timeout=30).json()["branches"] if b["id"] == bid)
            for s, bid in zip(sessions, branches)}
        if all(v == "ready" for v in states.values()):
            break
        time.sleep(0.5)
    assert all(v == "ready" for v in states.values()), states
    status = requests.get(f"{url}/agentrt/scheduler", timeout=30).json()
    stats = status["stats"]
    assert stats["bg_admitted"] > before["bg_admitted"]
    assert stats["bg_tokens_prefilled"] >= before["bg_tokens_prefilled"] + 4 * 1400
    assert status["policy"]["chunk_tokens"] == 256
    # 4 x ~1,500 background tokens in chunks of at most 256 (SGLang's own chunk is 4,096)
    assert stats["bg_chunks"] - before["bg_chunks"] >= 12
    metrics = requests.get(f"{url}/agentrt/metrics", timeout=30).text
    assert 'agentrt_ttft_seconds_count{cls="fg"}' in metrics
    assert "agentrt_bg_tokens_prefilled_total" in metrics
    assert "agentrt_bg_preempted_total" in metrics and "agentrt_bg_throttled_total" in metrics
    for s in sessions:
        requests.delete(f"{url}/agentrt/sessions/{s}", timeout=30)
    assert requests.get(f"{url}/agentrt/radix/integrity", timeout=60).json() == {"ok": True}


def test_promote_marks_unfinished_preparation(url):
    requests.post(f"{url}/agentrt/sessions", json={"session_id": "promo", "tokens": ids(7, 50)},
                  timeout=30)
    resp = requests.post(f"{url}/agentrt/sessions/promo/promote", timeout=30)
    assert resp.status_code == 200 and resp.json() == {"promoted": []}
    assert requests.post(f"{url}/agentrt/sessions/nope/promote", timeout=30).status_code == 404
    requests.delete(f"{url}/agentrt/sessions/promo", timeout=30)


def test_foreground_preempts_a_chunked_background_prefill(url):
    """A background branch prefill is mid-chunk (minimum chunks) while a foreground request decodes;
    a long foreground prompt that must itself be chunked arrives: SGLang tracks one chunked
    request at a time, so the background prefill is preempted (aborted, its branch abandoned,
    its KV freed) and the foreground prompt is served."""
    base = requests.get(f"{url}/agentrt/scheduler", timeout=30).json()["stats"]
    assert requests.post(f"{url}/agentrt/sessions", json={
        "session_id": "preempt", "tokens": ids(11, 20)}, timeout=30).status_code == 200
    branch = requests.post(f"{url}/agentrt/sessions/preempt/prepare", json={
        "tokens": ids(11, 20) + ids(12, 7900)[1:], "strategy": "window", "version": 1},
        timeout=60).json()["id"]
    deadline = time.monotonic() + 30
    while requests.get(f"{url}/agentrt/scheduler", timeout=30).json()["stats"]["bg_chunks"] \
            == base["bg_chunks"]:
        assert time.monotonic() < deadline, "the background prefill never started"
    with ThreadPoolExecutor(2) as pool:
        decoding = pool.submit(requests.post, f"{url}/generate", json={
            "input_ids": ids(13, 30), "sampling_params": {
                "max_new_tokens": 1500, "temperature": 0, "ignore_eos": True}}, timeout=300)
        time.sleep(0.3)
        long_prompt = requests.post(f"{url}/generate", json={
            "input_ids": ids(14, 5000), "sampling_params": {"max_new_tokens": 2,
                                                            "temperature": 0}}, timeout=300)
        assert decoding.result().status_code == 200
    assert long_prompt.status_code == 200, long_prompt.text
    stats = requests.get(f"{url}/agentrt/scheduler", timeout=30).json()["stats"]
    assert stats["bg_throttled"] > base["bg_throttled"]
    assert stats["bg_preempted"] == base["bg_preempted"] + 1
    deadline = time.monotonic() + 30
    while True:
        state = requests.get(f"{url}/agentrt/sessions/preempt", timeout=30).json()["branches"]
        mine = next(b for b in state if b["id"] == branch)
        if mine["state"] != "preparing" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert mine["state"] == "abandoned", mine
    requests.delete(f"{url}/agentrt/sessions/preempt", timeout=30)
    assert requests.get(f"{url}/agentrt/radix/integrity", timeout=60).json() == {"ok": True}


def test_a_prefill_next_to_decoding_requests_is_counted_as_their_stall(url):
    def stats():
        return requests.get(f"{url}/agentrt/scheduler", timeout=30).json()["stats"]

    def generate(tokens, new_tokens):
        resp = requests.post(f"{url}/generate", json={
            "input_ids": tokens, "sampling_params": {
                "max_new_tokens": new_tokens, "temperature": 0, "ignore_eos": True}},
            timeout=120)
        assert resp.status_code == 200, resp.text

    before = stats()
    with ThreadPoolExecutor(2) as pool:
        for attempt in range(3):     # the prefill must land while the other one decodes
            decoding = pool.submit(generate, ids(70 + attempt, 40), 400)
            time.sleep(0.3)
            generate(ids(80 + attempt, 1500), 1)
            decoding.result()
            if stats()["stalls"] > before["stalls"]:
                break
    after = stats()
    assert after["stalls"] > before["stalls"] and after["stalled_s"] > before["stalled_s"]
    longest = after["longest_stalls"]
    assert longest == sorted(longest, key=lambda s: -s["ms"]) and len(longest) <= 16
    assert all(s["decoding"] >= 1 and s["prefill_tokens"] > 0 for s in longest)
