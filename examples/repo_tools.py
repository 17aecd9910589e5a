"""Real, read-only tools over a local repository for the example agents: list, read, grep, run
tests. Each is an ``@frontend.tool``: calling it gives a ToolCall to ``s += ...`` in a program."""
import subprocess
import sys
import time
from pathlib import Path

from agentrt import frontend
from agentrt.demo import tools as demo_tools


def make_tools(repo: Path, list_limit: int = 80, grep_limit: int = 40,
               latency_s: float = 0.0):
    """``latency_s``: local tools answer in milliseconds; real agents' tools take seconds. Each
    tool waits this long after its work, standing in for a real tool's run time (the time in
    which the lookahead prepares in the background)."""
    repo = Path(repo).resolve()

    def tool(fn):
        def timed(**kwargs):
            try:
                return fn(**kwargs)
            finally:
                time.sleep(latency_s)
        timed.__name__ = fn.__name__
        return frontend.tool(timed)

    @tool
    def list_files(path: str = ".") -> str:
        files = [f for f in demo_tools.list_files(repo, limit=10_000) if f.startswith(
            "" if path in (".", "") else path.rstrip("/") + "/")]
        more = f"\n... {len(files) - list_limit} more" if len(files) > list_limit else ""
        return "\n".join(files[:list_limit]) + more

    @tool
    def read_file(path: str, max_chars: int = 1500) -> str:
        return demo_tools.read_file(repo, path, max_chars=max_chars)

    @tool
    def grep(pattern: str, path: str = ".") -> str:
        """``git grep`` for a fixed string; ``path``: one or more pathspecs, space-separated."""
        out = subprocess.run(["git", "grep", "-n", "-F", pattern, "--", *path.split()], cwd=repo,
                             capture_output=True, text=True, timeout=30, check=False)
        if out.returncode not in (0, 1):
            raise RuntimeError(out.stderr.strip() or "git grep failed")
        lines = out.stdout.splitlines()
        more = f"\n... {len(lines) - grep_limit} more" if len(lines) > grep_limit else ""
        return "\n".join(line[:160] for line in lines[:grep_limit]) + more or "(no match)"

    @tool
    def run_tests(path: str) -> str:
        target = (repo / path).resolve()
        if repo not in target.parents or not target.is_file():
            raise ValueError(f"{path!r} is not a test file of the repository")
        out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              "-x", str(target)], cwd=repo, capture_output=True, text=True,
                             timeout=300, check=False)
        tail = (out.stdout + out.stderr).strip().splitlines()[-8:]
        return f"exit code {out.returncode}\n" + "\n".join(tail)

    return list_files, read_file, grep, run_tests


def files_in(grep_output: str, prefix: str = "") -> list[str]:
    """Distinct file paths of ``git grep -n`` output lines, in order."""
    seen = []
    for line in grep_output.splitlines():
        path = line.split(":", 1)[0]
        if ":" in line and path.startswith(prefix) and path not in seen:
            seen.append(path)
    return seen


def tool_call_text(name: str, **args) -> str:
    """How the assistant turn that asks for a tool reads in the context."""
    inner = ", ".join(f'"{k}": "{v}"' for k, v in args.items())
    return f'<tool_call>{{"name": "{name}", "arguments": {{{inner}}}}}</tool_call>'


def print_report(report, title: str) -> None:
    print(f"\n{title}: program {report.program}, session {report.session_id}, "
          f"policy {report.strategy or 'none'}{' (lookahead)' if report.lookahead else ''}")
    print(f"{'call':<5} {'kind':<7} {'prompt':>7} {'cached':>7} {'TTFT':>8}")
    for i, call in enumerate(report.calls, 1):
        mark = ""
        if call.commit is not None:
            c = report.commits[call.commit]
            mark = (f"  <- commit: {c.outcome}, {c.prepared_tokens} tokens prepared, waited "
                    f"{c.waited_s * 1000:.0f} ms")
        prompt = "-" if call.prompt_tokens is None else call.prompt_tokens
        cached = "-" if call.cached_tokens is None else call.cached_tokens
        print(f"{i:<5} {call.kind:<7} {prompt:>7} {cached:>7} "
              f"{(call.ttft_s or 0) * 1000:>6.0f}ms{mark}")
        print(f"      > {' '.join((call.output or '').split())[:100]}")
    for t in report.tools:
        status = "ok" if t.error is None else f"error {t.error}"
        print(f"tool {t.name}({', '.join(f'{k}={v!r}' for k, v in t.args.items())}): "
              f"{t.duration_s * 1000:.0f} ms, {t.output_chars} chars, {status}, "
              f"KV pinned: {t.pinned}")
    for c in report.commits:
        ttft = f"{c.ttft_s * 1000:.0f} ms" if c.ttft_s is not None else "-"
        print(f"commit {c.outcome} ({c.strategy}): {c.prepared_tokens} tokens prepared, "
              f"{c.cached_tokens} cached on the commit call, TTFT {ttft} {c.reason}")
    for note in report.notes:
        print(f"note: {note}")
