"""``python -m benchmark.lifecycle.prepare_latency``: how long a preparation takes to be known
ready, and how many calls it costs, on an idle server (step 9's before / after).

Per preparation an agent sends a transformed context and learns when its branch is ready. Two
cases, each ``--n`` times on a fresh session: ``held`` (the branch's tokens are in the tree
already: no prefill, the control path alone) and ``new`` (``--new-tokens`` tokens to prefill).

The current flow is one call: ``POST .../prepare {messages, wait}``. ``--legacy`` replays the
flow of the code before it (44b6652): ``/agentrt/tokenize`` (token ids back to the client),
``/agentrt/scheduler`` (the capacity check's load), then ``prepare {tokens, wait}`` (run against
a server of that code). Prints the median and p90 wall time and the HTTP calls per preparation;
appends a line to ``results/prepare_latency.jsonl``.
"""
import argparse
import statistics
import time

import requests

from benchmark.common import append_result
from agentrt.client.managed_server import ManagedServer

SYSTEM = "You are a careful code reviewer. Answer briefly and cite file names. " * 6


def _history(i: int) -> list[dict]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Task {i}: review the parser. " + "read it. " * 60}]


def _edited(i: int, new_words: int) -> list[dict]:
    summary = f"Summary {i}: the parser reads JSON. " + " ".join(
        f"note{i}x{k}" for k in range(new_words))
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": summary}]


class Flow:
    def __init__(self, url: str, legacy: bool):
        self.url, self.legacy, self.calls = url, legacy, 0

    def post(self, path: str, body: dict | None = None) -> dict:
        self.calls += 1
        resp = requests.post(self.url + path, json=body, timeout=600)
        resp.raise_for_status()
        return resp.json()

    def prepare(self, sid: str, messages: list[dict], version: int) -> dict:
        if not self.legacy:
            return self.post(f"/agentrt/sessions/{sid}/prepare", {
                "messages": messages, "strategy": "summary", "version": version,
                "wait": True, "window_s": 3600})
        tokens = self.post("/agentrt/tokenize", {"messages": messages})["tokens"]
        self.calls += 1
        requests.get(self.url + "/agentrt/scheduler", timeout=60).raise_for_status()
        return self.post(f"/agentrt/sessions/{sid}/prepare", {
            "tokens": tokens, "strategy": "summary", "version": version, "wait": True})


def measure(url: str, legacy: bool, n: int, new_tokens: int) -> dict:
    flow = Flow(url, legacy)
    out = {}
    for case in ("held", "new"):
        times, calls = [], []
        for i in range(n):
            sid = f"lat-{case}-{i}-{int(time.time() * 1e3) % 100000}"
            flow.post("/agentrt/sessions", {"session_id": sid, "messages": _history(i)})
            edited = _edited(i, new_tokens // 3)
            if case == "held":   # the tree holds the branch's tokens already (version 1's)
                flow.prepare(sid, edited, 1)
            before = flow.calls
            start = time.perf_counter()
            branch = flow.prepare(sid, edited, 2)
            times.append((time.perf_counter() - start) * 1e3)
            calls.append(flow.calls - before)
            assert branch["state"] == "ready", branch
            requests.delete(f"{url}/agentrt/sessions/{sid}", timeout=60)
        times.sort()
        out[case] = {"median_ms": round(statistics.median(times), 1),
                     "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
                     "http_calls": max(calls)}
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-url", help="a running server (default: start the default model)")
    ap.add_argument("--legacy", action="store_true", help="the flow before step 9's one call")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--new-tokens", type=int, default=300)
    args = ap.parse_args(argv)
    server = None if args.base_url else ManagedServer(["--sleep-on-idle"]).start()
    try:
        url = args.base_url or server.url
        result = measure(url, args.legacy, args.n, args.new_tokens)
    finally:
        if server is not None:
            server.stop()
    flow = "legacy (tokenize, load, prepare)" if args.legacy else "one call (prepare)"
    for case, row in result.items():
        print(f"{flow:34s} {case:5s} median {row['median_ms']:8.1f} ms  p90 "
              f"{row['p90_ms']:8.1f} ms  {row['http_calls']} HTTP calls per preparation")
    append_result("prepare_latency", {"flow": "legacy" if args.legacy else "one_call",
                                      "n": args.n, "new_tokens": args.new_tokens, **result})


if __name__ == "__main__":
    main()
