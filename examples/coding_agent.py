"""A multi-turn coding agent written as an SGLang frontend program, served by agentrt.

Start a server on the default model (SmolLM2-135M-Instruct), then run the agent:

    .venv/bin/agentrt serve --port 30000
    .venv/bin/python examples/coding_agent.py --url http://127.0.0.1:30000 --max-steps 3
    .venv/bin/python examples/coding_agent.py --url http://127.0.0.1:30000 --policy offload

The tools are real and read-only over a local repository (default: this one): list_files,
grep, read_file, run_tests (pytest on one test file). A 135M model cannot plan tool use, so the
program fixes the plan (list, grep for the symbol, read the file the model picks with
``sgl.select``, run the tests the model picks); the model writes a note after every tool and the
final answer. The context policy is declared once, on the program, without touching its body:
``--policy summarize`` (older turns become a background summary) or ``offload`` (big tool
outputs go to files; a reference stays). With lookahead (the default) the transformation is
prepared while tools run and committed by pointer; ``--no-lookahead`` applies it synchronously
at the commit turn. Local tools are instant, so each waits ``--tool-latency-ms`` (500) standing
in for a real tool's run time. The script prints every model call (prompt, cached tokens, TTFT,
commits), every tool call, and the commit outcomes.
"""
import argparse
import sys
import tempfile
from pathlib import Path

import requests
import sglang as sgl
from agentrt import frontend
from agentrt.lookahead.strategies import Offload, Summarize
from agentrt.lookahead.strategies.offload import OffloadStore
from agentrt.lookahead.strategy import ContextBudget

sys.path.insert(0, str(Path(__file__).resolve().parent))
from repo_tools import files_in, make_tools, print_report, tool_call_text

REPO = Path(__file__).resolve().parents[1]
SYSTEM = ("You are a coding agent working in a Python repository with tools. After each tool "
          "result, write one short note about what you learned. Be brief.")
NOTE = "Write one short sentence about what this tool result shows."


@sgl.function
def coding_agent(s, task: str, symbol: str, repo: str, max_steps: int, max_tokens: int,
                 where: str = "python/agentrt/lookahead test/unit",
                 tool_latency_s: float = 0.0):
    list_files, read_file, grep, run_tests = make_tools(Path(repo), latency_s=tool_latency_s)
    s += sgl.system(SYSTEM)
    s += sgl.user(task)

    def step(i, call_text, call):
        nonlocal s
        s += sgl.assistant(call_text)
        s += call
        s += sgl.user(NOTE)
        s += sgl.assistant(sgl.gen(f"note{i}", max_tokens=max_tokens, temperature=0))

    step(1, tool_call_text("list_files", path="."), list_files(path="."))
    if max_steps >= 2:
        step(2, tool_call_text("grep", pattern=symbol, path=where),
             grep(pattern=symbol, path=where))
        hits = [p for p in files_in(s.messages()[-3]["content"]) if p.endswith(".py")]
        sources = [p for p in hits if not p.startswith("test")] or ["README.md"]
        tests = [p for p in hits if p.startswith("test/unit")]
        if max_steps >= 3:
            s += sgl.user("Which file should be read first?")
            s += sgl.assistant(sgl.select("source", choices=sources[:8]))
            step(3, tool_call_text("read_file", path=s["source"]),
                 read_file(path=s["source"]))
        if max_steps >= 4 and tests:
            s += sgl.user("Which test file should be run?")
            s += sgl.assistant(sgl.select("test", choices=tests[:6]))
            step(4, tool_call_text("run_tests", path=s["test"]), run_tests(path=s["test"]))
    s += sgl.user(f"Answer the task in two sentences: {task}")
    s += sgl.assistant(sgl.gen("answer", max_tokens=max_tokens, temperature=0))


def policy(name: str, budget: int, offload_dir: Path):
    if name == "summarize":
        return Summarize(ContextBudget(budget), keep_tail_tokens=budget // 4, summary_tokens=48)
    return Offload(ContextBudget(budget), OffloadStore(offload_dir), limit_tokens=120)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:30000")
    parser.add_argument("--repo", type=Path, default=REPO)
    parser.add_argument("--task", default="Find where ContextBudget is defined and check that "
                                          "the strategy tests pass.")
    parser.add_argument("--symbol", default="ContextBudget")
    parser.add_argument("--where", default="python/agentrt/lookahead test/unit",
                        help="pathspecs the agent greps in")
    parser.add_argument("--policy", choices=("summarize", "offload"), default="summarize")
    parser.add_argument("--budget-tokens", type=int, default=1400,
                        help="context budget: preparation starts at 60%%, commit at 80%%")
    parser.add_argument("--max-steps", type=int, default=4, help="tool steps (1-4)")
    parser.add_argument("--max-tokens", type=int, default=32, help="tokens per model answer")
    parser.add_argument("--tool-latency-ms", type=float, default=500,
                        help="stand-in for a real tool's run time after each (instant) local "
                             "tool call")
    parser.add_argument("--no-lookahead", action="store_true",
                        help="apply the policy synchronously (the baseline)")
    args = parser.parse_args(argv)

    backend = frontend.AgentrtBackend(args.url)
    offload_dir = Path(tempfile.mkdtemp(prefix="agentrt-offload-"))
    agent = frontend.function(coding_agent, strategy=policy(args.policy, args.budget_tokens,
                                                            offload_dir),
                              lookahead=not args.no_lookahead)
    try:
        state = agent.run(task=args.task, symbol=args.symbol, repo=str(args.repo),
                          max_steps=args.max_steps, max_tokens=args.max_tokens, where=args.where,
                          tool_latency_s=args.tool_latency_ms / 1000, backend=backend)
        if state.error() is not None:
            print(f"coding_agent: error: {state.error()}", file=sys.stderr)
            return 1
        report = frontend.report(state)
        print_report(report, "coding agent")
        print(f"\nanswer: {state['answer'].strip()}")
        session = requests.get(f"{args.url}/agentrt/sessions/{report.session_id}", timeout=30)
        integrity = requests.get(f"{args.url}/agentrt/radix/integrity", timeout=60).json()
        print(f"session closed: {session.status_code == 404}; radix integrity: {integrity}")
        return 0
    finally:
        backend.shutdown()


if __name__ == "__main__":
    sys.exit(main())
