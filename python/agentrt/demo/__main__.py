"""`make demo` / `python -m agentrt.demo`: start a server on the default model, run the demo agent.

Prints every turn's tool call, prompt size, cached tokens, TTFT and the model's answer, then
stops the server. With --url it talks to a running server instead of starting one.
"""
import argparse
import sys
import textwrap
import time
from pathlib import Path

from agentrt.client.managed_server import ManagedServer, ServerStartError
from agentrt.demo.agent import RepoReviewAgent

REPO_ROOT = Path(__file__).resolve().parents[3]


def run_agent(url: str, repo: Path, reads: int, max_tokens: int) -> int:
    agent = RepoReviewAgent(url, repo, reads=reads, max_tokens=max_tokens)
    ttfts = []
    for turn in agent.run():
        r = turn.result
        ttfts.append(r.ttft_s)
        print(f"\n── turn {turn.index}: {turn.tool_call}")
        print(f"   prompt {r.prompt_tokens} tokens ({r.cached_tokens} cached) | "
              f"TTFT {r.ttft_s * 1000:.0f} ms | {r.completion_tokens} tokens in {r.total_s:.1f} s")
        print(textwrap.indent(textwrap.fill(r.text.strip() or "(empty answer)", 96), "   > "))
    print(f"\n{len(ttfts)} turns; TTFT first {ttfts[0] * 1000:.0f} ms, last {ttfts[-1] * 1000:.0f} ms,"
          f" max {max(ttfts) * 1000:.0f} ms")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agentrt demo", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="use a running server at this URL instead of starting one")
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="repository to review")
    parser.add_argument("--reads", type=int, default=6, help="files the agent reads")
    parser.add_argument("--max-tokens", type=int, default=64, help="tokens per answer")
    parser.add_argument("server_args", nargs="*", help="extra `agentrt serve` flags (after --)")
    args = parser.parse_args(argv)
    if args.url:
        return run_agent(args.url.rstrip("/"), args.repo, args.reads, args.max_tokens)
    print("demo: starting agentrt serve on the default model (first run prepares it) ...",
          flush=True)
    started = time.perf_counter()
    server = ManagedServer(args.server_args)
    try:
        server.start()
    except ServerStartError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"demo: server ready at {server.url} in {time.perf_counter() - started:.0f} s "
              f"(log: {server.log_path})", flush=True)
        return run_agent(server.url, args.repo, args.reads, args.max_tokens)
    finally:
        server.stop()
        print("demo: server stopped")


if __name__ == "__main__":
    sys.exit(main())
