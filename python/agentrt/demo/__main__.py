"""`make demo` / `python -m agentrt.demo`: start a server on the default model, run the demo agent.

The agent runs three times on the same server: with its context policy applied synchronously
(the baseline: the commit turn re-prefills the rewritten context), then with agentrt's lookahead
(the rewrite is prepared in the background and swapped in by pointer), then synchronously again.
The baseline of each turn is the mean of its two synchronous runs, around the lookahead run:
the same forward pass costs up to 1.8x more at one moment than at another on a shared machine,
and a drift over the minutes of the three runs cancels out (``--baseline-runs 1``: synchronous
then lookahead only). Every turn prints the tool call, prompt size, cached tokens and the TTFT
of the runs side by side, then the model's answer; the server is stopped at the end. With --url
it uses a running server instead.
"""
import argparse
import sys
import textwrap
import time
from pathlib import Path

from agentrt.client.flush import flush_cache
from agentrt.client.managed_server import ManagedServer, ServerStartError
from agentrt.demo.agent import POLICIES, RepoReviewAgent

REPO_ROOT = Path(__file__).resolve().parents[3]


def run_agent(url: str, args, run: int) -> list:
    agent = RepoReviewAgent(url, args.repo, reads=args.reads, max_tokens=args.max_tokens,
                            budget_tokens=args.budget_tokens, lookahead=args.lookahead_run,
                            tool_latency_s=args.tool_latency_ms / 1000,
                            policy_name=args.policy,
                            session_id=f"demo-{run}-{'lookahead' if args.lookahead_run else 'sync'}")
    return list(agent.run())


def latency(turn) -> float:
    """Time to first token of the turn as the agent sees it: preparation it waited for + TTFT."""
    return (turn.commit.waited_s if turn.commit is not None else 0.0) + turn.result.ttft_s


def baseline(sync_runs: list[list]) -> list[float]:
    """Each turn's synchronous latency: its mean over the synchronous runs."""
    return [sum(latency(t) for t in turns) / len(turns) for turns in zip(*sync_runs)]


def show(sync_runs: list[list], la_turns) -> None:
    columns = "".join(f"{f'TTFT sync {i + 1}':>12}" for i in range(len(sync_runs))) \
        if len(sync_runs) > 1 else f"{'TTFT sync':>12}"
    print(f"\n{'turn':<5} {'tool call':<58} {'prompt':>7} {'cached':>7}{columns} "
          f"{'TTFT lookahead':>15}")
    for turns in zip(*sync_runs, la_turns):
        *syncs, la = turns
        r = la.result
        mark = ""
        if la.commit is not None:
            mark = (f"  <- commit ({la.commit.outcome}, {la.commit.prepared_tokens} tokens "
                    f"reused, waited {la.commit.waited_s * 1000:.0f} ms)")
        call = la.tool_call.replace('<tool_call>{"name": ', "").replace("</tool_call>", "")
        sync_ms = "".join(f"{latency(s) * 1000:>10.0f}ms" for s in syncs)
        print(f"{la.index:<5} {call[:58]:<58} {r.prompt_tokens:>7} {r.cached_tokens:>7}"
              f"{sync_ms} {latency(la) * 1000:>13.0f}ms{mark}")
        for decision in la.starts:
            detail = (f"{decision.need_s:.1f} s of prefill needed, {decision.idle_s:.1f} s idle "
                      "expected before the commit") if decision.need_s or decision.idle_s \
                else decision.reason
            if decision.reason.startswith("fits later"):
                detail = decision.reason   # it would still fit from the next boundary
            print(f"      lookahead {'started' if decision.start else 'deferred'}: {detail}")
        print(textwrap.indent(textwrap.fill(r.text.strip() or "(empty answer)", 96), "   > "))
    for s, la in zip(baseline(sync_runs), la_turns):
        if la.commit is not None:
            print(f"\ncommit turn {la.index}: TTFT {s * 1000:.0f} ms synchronous "
                  f"({'mean of the runs' if len(sync_runs) > 1 else 'one run'}) vs "
                  f"{latency(la) * 1000:.0f} ms with lookahead "
                  f"({s / max(latency(la), 1e-6):.1f}x)")
    for line in verdicts(sync_runs, la_turns):
        print(line)
    print("(TTFT includes any wait for unfinished preparation; tools are local files, each "
          "followed by --tool-latency-ms standing in for a real tool's run time)")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def verdicts(sync_runs: list[list], la_turns) -> list[str]:
    """The demo's targets (step 10), each with its measured value and verdict. Ordinary turns:
    every turn after the first (cold) one that commits in no run. A turn's synchronous latency
    is its mean over the synchronous runs."""
    committed = [any(t.commit is not None for t in turns) for turns in zip(*sync_runs, la_turns)]
    rows = list(zip(baseline(sync_runs), la_turns, committed))
    pairs = [(s, la) for s, la, commits in rows[1:] if not commits]
    commits = [(s, la) for s, la, _ in rows if la.commit is not None]
    if not pairs or not commits:
        return ["targets: not checked (the run needs ordinary turns and a commit)"]
    on, off = median([latency(la) for _, la in pairs]), median([s for s, _ in pairs])
    lines = [f"ordinary turns: median TTFT {on * 1000:.0f} ms with lookahead, "
             f"{off * 1000:.0f} ms without"]
    checks = [(f"ordinary median on / off = {on / off:.2f}", on / off <= 1.15, "<= 1.15")]
    for s, la in commits:
        checks.append((f"commit turn {la.index} / ordinary median = {latency(la) / on:.2f}",
                       latency(la) / on <= 1.2, "<= 1.2"))
        checks.append((f"commit turn {la.index} synchronous / lookahead = "
                       f"{s / latency(la):.1f}x", s / latency(la) >= 5, ">= 5x"))
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
    parser.add_argument("--baseline-runs", type=int, choices=(1, 2), default=2,
                        help="synchronous runs: 2 (before and after the lookahead run, whose "
                             "mean is the baseline) or 1 (before it only)")
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
        runs = []
        for run, lookahead in enumerate((False, True, False)[:1 + args.baseline_runs]):
            args.lookahead_run = lookahead
            print(f"demo: running the agent ({'lookahead' if lookahead else 'synchronous'}) ...",
                  flush=True)
            flush_cache(url)   # every run starts cold
            runs.append(run_agent(url, args, run))
        show([runs[0], *runs[2:]], runs[1])
        return 0
    finally:
        if server is not None:
            server.stop()
            print("demo: server stopped")


if __name__ == "__main__":
    sys.exit(main())
