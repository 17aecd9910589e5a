"""Shared benchmark plumbing: result lines (one JSON object per system per run) and tables."""
import datetime
import json
import platform
import subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=RESULTS.parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def device() -> str:
    import os

    return f"cpu:{platform.processor() or platform.machine()}x{os.cpu_count()}"


def append_result(name: str, record: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "commit": git_commit(), "device": device(), **record}
    with open(RESULTS / f"{name}.jsonl", "a") as fh:
        fh.write(json.dumps(record) + "\n")


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
