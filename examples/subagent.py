"""A coordinator agent that hands file reviews to a sub-agent program, served by agentrt.

Start a server on the default model (SmolLM2-135M-Instruct), then run:

    .venv/bin/agentrt serve --port 30000
    .venv/bin/python examples/subagent.py --url http://127.0.0.1:30000 --max-steps 3

The coordinator lists the repository, then, for each file it picks, calls a tool that runs a
second frontend program, the sub-agent: it reads the file in its *own* session and context and
answers in two sentences; only that answer enters the coordinator's context. Sub-agent programs
run one after another, each with its own session, closed when it returns. The coordinator
declares its context policy once (``ClearToolResults``: the tool outputs of the snapshot taken
at the soft threshold, such as the long file list, are cleared; reviews that came later stay),
prepared with lookahead while the sub-agents run; the
script prints both programs' model calls, tool calls (with their run times, which the server
uses to size its KV pins), the commit outcomes, and checks that no session is left open.
"""
import argparse
import sys
from pathlib import Path

import requests
import sglang as sgl
from agentrt import frontend
from agentrt.lookahead.strategies import ClearToolResults
from agentrt.lookahead.strategy import ContextBudget

sys.path.insert(0, str(Path(__file__).resolve().parent))
from repo_tools import make_tools, print_report, tool_call_text

REPO = Path(__file__).resolve().parents[1]
PICKS = ("python/agentrt/lookahead/strategy.py", "python/agentrt/lookahead/runtime.py",
         "python/agentrt/frontend/backend.py", "python/agentrt/radix/ttl.py")


@frontend.function   # a session of its own, no context policy (its context stays short)
def file_reviewer(s, path: str, repo: str, max_tokens: int):
    _, read_file, _, _ = make_tools(Path(repo))
    s += sgl.system("You review one source file for a coordinating agent. Be brief.")
    s += sgl.user(f"Review {path}.")
    s += sgl.assistant(tool_call_text("read_file", path=path))
    s += read_file(path=path)
    s += sgl.user("In two sentences: what does this file do?")
    s += sgl.assistant(sgl.gen("review", max_tokens=max_tokens, temperature=0))


@sgl.function
def coordinator(s, repo: str, picks: list, max_tokens: int, reviewer):
    list_files, _, _, _ = make_tools(Path(repo))
    s += sgl.system("You coordinate a code review. Sub-agents review single files for you.")
    s += sgl.user("Review the lookahead part of this repository.")
    s += sgl.assistant(tool_call_text("list_files", path="."))
    s += list_files(path=".")
    for i, path in enumerate(picks):
        s += sgl.assistant(tool_call_text("delegate_review", path=path))
        s += frontend.tool_call("delegate_review", reviewer, {"path": path})
        s += sgl.user("Note in one sentence what you learned.")
        s += sgl.assistant(sgl.gen(f"note{i}", max_tokens=max_tokens, temperature=0))
    s += sgl.user("Summarize the review in two sentences.")
    s += sgl.assistant(sgl.gen("summary", max_tokens=max_tokens, temperature=0))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:30000")
    parser.add_argument("--repo", type=Path, default=REPO)
    parser.add_argument("--max-steps", type=int, default=4, help="files delegated (1-4)")
    parser.add_argument("--max-tokens", type=int, default=32, help="tokens per model answer")
    parser.add_argument("--budget-tokens", type=int, default=1600,
                        help="coordinator's context budget (prepare at 60%%, commit at 80%%)")
    parser.add_argument("--no-lookahead", action="store_true")
    args = parser.parse_args(argv)

    backend = frontend.AgentrtBackend(args.url)
    sub_reports = []

    def delegate_review(path: str) -> str:
        state = file_reviewer.run(path=path, repo=str(args.repo), max_tokens=args.max_tokens,
                                  backend=backend)
        sub_reports.append(frontend.report(state))
        return state["review"].strip()

    agent = frontend.function(coordinator, strategy=ClearToolResults(
        ContextBudget(args.budget_tokens), keep_last=0), lookahead=not args.no_lookahead)
    try:
        state = agent.run(repo=str(args.repo), picks=list(PICKS[:args.max_steps]),
                          max_tokens=args.max_tokens, reviewer=delegate_review, backend=backend)
        if state.error() is not None:
            print(f"subagent: error: {state.error()}", file=sys.stderr)
            return 1
        report = frontend.report(state)
        print_report(report, "coordinator")
        for sub in sub_reports:
            print_report(sub, "sub-agent")
        print(f"\nsummary: {state['summary'].strip()}")
        sessions = [r.session_id for r in [report, *sub_reports]]
        left = [sid for sid in sessions if requests.get(
            f"{args.url}/agentrt/sessions/{sid}", timeout=30).status_code != 404]
        integrity = requests.get(f"{args.url}/agentrt/radix/integrity", timeout=60).json()
        print(f"sessions opened: {len(sessions)}, left open: {len(left)}; "
              f"radix integrity: {integrity}")
        return 0
    finally:
        backend.shutdown()


if __name__ == "__main__":
    sys.exit(main())
