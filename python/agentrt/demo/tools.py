"""Real local tools for the demo agent: list and read files of a repository (read-only)."""
import os
import subprocess
from pathlib import Path

SKIP_DIRS = {".git", ".venv", "__pycache__", "node_modules", ".pytest_cache", "build", "dist"}


class ToolError(ValueError):
    """A tool call the agent made cannot be carried out (bad path, outside the repository)."""


def list_files(root: str | os.PathLike, limit: int = 200) -> list[str]:
    """Repository files, relative paths, sorted; git's view when it is a git checkout."""
    root = Path(root)
    try:
        out = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True,
                             timeout=20, check=True).stdout.split()
        files = sorted(f for f in out if (root / f).is_file())
    except (OSError, subprocess.SubprocessError):
        files = sorted(
            str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and not SKIP_DIRS.intersection(p.relative_to(root).parts))
    return files[:limit]


def read_file(root: str | os.PathLike, path: str, max_chars: int = 1800) -> str:
    """The start of a file inside ``root``; refuses paths that leave the repository."""
    base = Path(root).resolve()
    target = (base / path).resolve()
    if base != target and base not in target.parents:
        raise ToolError(f"{path!r} is outside the repository")
    if not target.is_file():
        raise ToolError(f"{path!r} is not a file")
    text = target.read_text(errors="replace")
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n... [{len(text) - max_chars} more characters]"
    return text
