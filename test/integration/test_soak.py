"""A bounded soak: concurrent agents with lookahead (prepare, catch-up, commit, abandon, pins,
closes, hostile requests) for AGENTRT_SOAK_S seconds (default 60), with a server restart in the
middle; loopback only. Ends with: every request answered (an HTTP status, or only while the
server restarts a refused connection or, for a control call in flight when it stopped, a 503 that
says so), no other 5xx, the tree intact and no KV held by anyone."""
import os
import random
import threading
import time

import requests

SOAK_S = float(os.environ.get("AGENTRT_SOAK_S", "60"))
AGENTS = 3
SYSTEM = [1] + list(range(20, 80))


class Log:
    def __init__(self):
        self.lock, self.statuses, self.refused, self.failures = threading.Lock(), {}, 0, []
        self.released = 0     # control calls in flight when the server stopped: 503 at once
        self.restarting = threading.Event()

    def call(self, method, url, **kw):
        try:
            resp = requests.request(method, url, timeout=120, **kw)
        except requests.ConnectionError as exc:
            with self.lock:
                refused = self.restarting.is_set()
                if refused:
                    self.refused += 1
                else:
                    self.failures.append(f"{method} {url}: no answer: {exc}")
            if refused:
                time.sleep(0.5)   # the server is restarting: come back later
            return None
        except requests.Timeout:
            with self.lock:
                self.failures.append(f"{method} {url}: no answer in 120 s")
            return None
        with self.lock:
            self.statuses[resp.status_code] = self.statuses.get(resp.status_code, 0) + 1
            if resp.status_code == 503 and self.restarting.is_set() \
                    and "shutting down" in resp.text:
                self.released += 1
            elif resp.status_code >= 500:
                self.failures.append(f"{method} {url}: {resp.status_code} {resp.text[:200]}")
        return resp


def _ok(resp):
    return resp is not None and resp.status_code == 200


def _agent(url, log, index, deadline):
    rng, sid, version = random.Random(index), f"soak-{index}", 0
    context = SYSTEM + [100 + index]
    log.call("POST", url + "/agentrt/sessions", json={"session_id": sid, "tokens": context})
    while time.monotonic() < deadline:
        context = context + [rng.randrange(3, 500) for _ in range(rng.randrange(5, 40))]
        if len(context) > 1500:
            context = SYSTEM + [100 + index]
        turn = log.call("POST", url + "/generate", json={
            "input_ids": context, "session_id": sid,
            "sampling_params": {"max_new_tokens": 4, "temperature": 0}})
        if turn is not None and turn.status_code == 200:
            context = context + turn.json()["output_ids"]
        version += 1
        _lookahead_step(url, log, rng, sid, context, version)
        if rng.random() < 0.1:
            _hostile(url, log, rng, sid)
        if rng.random() < 0.05 or (turn is not None and turn.status_code == 404):
            log.call("DELETE", f"{url}/agentrt/sessions/{sid}")
            context = SYSTEM + [100 + index]
            log.call("POST", url + "/agentrt/sessions", json={"session_id": sid,
                                                              "tokens": context})
    log.call("DELETE", f"{url}/agentrt/sessions/{sid}")


def _lookahead_step(url, log, rng, sid, context, version):
    keep = rng.randrange(len(SYSTEM), len(context))
    branch = log.call("POST", f"{url}/agentrt/sessions/{sid}/prepare", json={
        "tokens": context[:keep] + [rng.randrange(3, 500) for _ in range(8)],
        "strategy": rng.choice(["summary", "window"]), "version": version,
        "wait": rng.random() < 0.5})
    if not _ok(branch):
        return
    bid = branch.json()["id"]
    if rng.random() < 0.5:
        log.call("POST", f"{url}/agentrt/sessions/{sid}/branches/{bid}/append",
                 json={"tokens": [rng.randrange(3, 500) for _ in range(6)]})
    action = rng.random()
    if action < 0.4:
        log.call("POST", f"{url}/agentrt/sessions/{sid}/branches/{bid}/commit")
    elif action < 0.7:
        log.call("POST", f"{url}/agentrt/sessions/{sid}/branches/{bid}/abandon",
                 json={"reason": "soak"})
    elif action < 0.85:
        log.call("POST", f"{url}/agentrt/sessions/{sid}/pin", json={"tool": "bash",
                                                                      "ttl_s": 0.5})


def _hostile(url, log, rng, sid):
    method, path, data = rng.choice([
        ("POST", "/generate", '{"input_ids": [-1]}'), ("POST", "/generate", '{"text": ""}'),
        ("POST", f"/agentrt/sessions/{sid}/pin", '{"ttl_s": NaN}'),
        ("POST", f"/agentrt/sessions/{sid}/prepare", "[1, 2]"),
        ("POST", "/agentrt/tokenize", "[" * 5000 + "]" * 5000),
        ("GET", "/agentrt/radix/view.json?match=99999999999999999999", None),
        ("POST", f"/agentrt/sessions/{sid}/branches/nope/commit", None)])
    resp = log.call(method, url + path, data=data, headers={"content-type": "application/json"})
    if resp is not None and not 400 <= resp.status_code < 500:
        with log.lock:
            log.failures.append(f"hostile {method} {path}: {resp.status_code}")


def test_soak_with_a_restart(server, url):
    log = Log()
    deadline = time.monotonic() + SOAK_S
    agents = [threading.Thread(target=_agent, args=(url, log, i, deadline))
              for i in range(AGENTS)]
    for agent in agents:
        agent.start()
    time.sleep(SOAK_S / 2)
    log.restarting.set()
    stopping = time.monotonic()
    server.stop()
    stop_s = time.monotonic() - stopping
    server.start()
    log.restarting.clear()
    for agent in agents:
        agent.join(timeout=SOAK_S + 300)
        assert not agent.is_alive(), "an agent hung"
    answered = sum(log.statuses.values())
    print(f"\nsoak {SOAK_S:.0f} s, {AGENTS} agents: {answered} requests answered "
          f"{dict(sorted(log.statuses.items()))}, {log.refused} refused and {log.released} "
          f"released (503) while restarting; the stop took {stop_s:.1f} s")
    assert log.failures == [], "\n".join(log.failures[:20])
    assert answered >= 50 * SOAK_S / 60 and log.statuses.get(200, 0) > answered / 3
    integrity = requests.get(url + "/agentrt/radix/integrity", timeout=60)
    assert integrity.status_code == 200 and integrity.json() == {"ok": True}
    kv = requests.get(url + "/agentrt/scheduler", timeout=60).json()
    assert kv["held_by_lookahead"] == 0 and kv["pinned_tokens"] == 0
    assert kv["kv"]["protected"] == 0
    assert kv["kv"]["available"] + kv["kv"]["evictable"] == kv["kv"]["total"]
