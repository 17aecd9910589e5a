"""`make demo` / `python -m agentrt.demo`: start a server on the default model, run the demo agent.

The agent runs twice on the same server: first with its context policy applied synchronously
(the baseline: the commit turn re-prefills the rewritten context), then with agentrt's lookahead
(the rewrite is prepared in the background and swapped in by pointer). Every turn prints the
tool call, prompt size, cached tokens and the TTFT of both runs side by side, then the model's
answer; the server is stopped at the end. With --url it uses a running server instead.
"""
import argparse
import sys
import textwrap
import time
from pathlib import Path

import requests

from agentrt.client.managed_server import ManagedServer, ServerStartError
from agentrt.demo.agent import POLICIES, RepoReviewAgent

REPO_ROOT = Path(__file__).resolve().parents[3]


def run_agent(url: str, args) -> list:
    agent = RepoReviewAgent(url, args.repo, reads=args.reads, max_tokens=args.max_tokens,
                            budget_tokens=args.budget_tokens, lookahead=args.lookahead_run,
                            tool_latency_s=args.tool_latency_ms / 1000,
                            policy_name=args.policy,
                            session_id=f"demo-{'lookahead' if args.lookahead_run else 'sync'}")
    return list(agent.run())


def latency(turn) -> float:
    """Time to first token of the turn as the agent sees it: preparation it waited for + TTFT."""
    return (turn.commit.waited_s if turn.commit is not None else 0.0) + turn.result.ttft_s


def show(sync_turns, la_turns) -> None:
    print(f"\n{'turn':<5} {'tool call':<58} {'prompt':>7} {'cached':>7} "
          f"{'TTFT sync':>10} {'TTFT lookahead':>15}")
    for s, la in zip(sync_turns, la_turns):
        r = la.result
        mark = ""
        if la.commit is not None:
            mark = (f"  <- commit ({la.commit.outcome}, {la.commit.prepared_tokens} tokens "
                    f"reused, waited {la.commit.waited_s * 1000:.0f} ms)")
        call = la.tool_call.replace('<tool_call>{"name": ', "").replace("</tool_call>", "")
        print(f"{la.index:<5} {call[:58]:<58} {r.prompt_tokens:>7} {r.cached_tokens:>7} "
              f"{latency(s) * 1000:>8.0f}ms {latency(la) * 1000:>13.0f}ms{mark}")
        for decision in la.starts:
            detail = (f"{decision.need_s:.1f} s of prefill needed, {decision.idle_s:.1f} s idle "
                      "expected before the commit") if decision.need_s or decision.idle_s \
                else decision.reason
            print(f"      lookahead {'started' if decision.start else 'deferred'}: {detail}")
        print(textwrap.indent(textwrap.fill(r.text.strip() or "(empty answer)", 96), "   > "))
    for s, la in zip(sync_turns, la_turns):
        if la.commit is not None:
            print(f"\ncommit turn {la.index}: TTFT {latency(s) * 1000:.0f} ms synchronous vs "
                  f"{latency(la) * 1000:.0f} ms with lookahead "
                  f"({latency(s) / max(latency(la), 1e-6):.1f}x)")
    for line in verdicts(sync_turns, la_turns):
        print(line)
    print("(TTFT includes any wait for unfinished preparation; tools are local files, each "
          "followed by --tool-latency-ms standing in for a real tool's run time)")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def verdicts(sync_turns, la_turns) -> list[str]:
    """The demo's targets (step 10), each with its measured value and verdict. Ordinary turns:
    every turn after the first (cold) one that commits in neither run."""
    pairs = [(s, la) for s, la in list(zip(sync_turns, la_turns))[1:]
             if s.commit is None and la.commit is None]
    commits = [(s, la) for s, la in zip(sync_turns, la_turns) if la.commit is not None]
    if not pairs or not commits:
        return ["targets: not checked (the run needs ordinary turns and a commit)"]
    on, off = median([latency(la) for _, la in pairs]), median([latency(s) for s, _ in pairs])
    lines = [f"ordinary turns: median TTFT {on * 1000:.0f} ms with lookahead, "
             f"{off * 1000:.0f} ms without"]
    checks = [(f"ordinary median on / off = {on / off:.2f}", on / off <= 1.15, "<= 1.15")]
    for s, la in commits:
        checks.append((f"commit turn {la.index} / ordinary median = {latency(la) / on:.2f}",
                       latency(la) / on <= 1.2, "<= 1.2"))
        checks.append((f"commit turn {la.index} synchronous / lookahead = "
                       f"{latency(s) / latency(la):.1f}x", latency(s) / latency(la) >= 5, ">= 5x"))
    return lines + [f"target {'met   ' if ok else 'MISSED'} {text} (target {goal})"
                    for text, ok, goal in checks]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agentrt demo", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="use a running server at this URL instead of starting one")
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="repository to review")
    parser.add_argument("--reads", type=int, default=10, help="files the agent reads")
    parser.add_argument("--max-tokens", type=int, default=64, help="tokens per answer")
    parser.add_argument("--budget-tokens", type=int, default=8000,
                        help="context budget: lookahead starts at 55%% (4,400 tokens), commits "
                             "at 80%% (6,400 of the model's 8,192 tokens)")
    parser.add_argument("--policy", choices=POLICIES, default="offload",
                        help="context policy: offload tool outputs over 1,000 tokens (the "
                             "listing) to files, or clear all but the last file's contents")
    parser.add_argument("--tool-latency-ms", type=float, default=6000,
                        help="stand-in for a real tool's run time after each (instant) local "
                             "tool call")
    parser.add_argument("server_args", nargs="*", help="extra `agentrt serve` flags (after --)")
    args = parser.parse_args(argv)
    server = None
    if args.url:
        url = args.url.rstrip("/")
    else:
        print("demo: starting agentrt serve on the default model (first run prepares it) ...",
              flush=True)
        started = time.perf_counter()
        server = ManagedServer(args.server_args)
        try:
            server.start()
        except ServerStartError as exc:
            print(f"demo: error: {exc}", file=sys.stderr)
            return 1
        url = server.url
        print(f"demo: server ready at {url} in {time.perf_counter() - started:.0f} s "
              f"(log: {server.log_path})", flush=True)
    try:
        runs = {}
        for lookahead in (False, True):
            args.lookahead_run = lookahead
            print(f"demo: running the agent ({'lookahead' if lookahead else 'synchronous'}) ...",
                  flush=True)
            requests.post(f"{url}/flush_cache", timeout=60)   # both runs start cold
            runs[lookahead] = run_agent(url, args)
        show(runs[False], runs[True])
        return 0
    finally:
        if server is not None:
            server.stop()
            print("demo: server stopped")


if __name__ == "__main__":
    sys.exit(main())
