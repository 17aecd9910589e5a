"""Which SGLang processes loaded the agentrt plugin: one small JSON file per process.

Each process that runs `plugin.register()` writes ``<state_dir>/plugin-<pid>.json``; the HTTP
process reads them back for ``GET /agentrt/info``, so a client (and the tests) can check that the
plugin is live inside the scheduler, not just importable.
"""
import json
import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

from agentrt import env

ROLE_HTTP = "http"
ROLE_SCHEDULER = "scheduler"
ROLE_DETOKENIZER = "detokenizer"
ROLE_OTHER = "other"

# The SGLang function that calls load_plugins() tells which process this is (the scheduler sets
# its process title only after loading plugins, so the title cannot be used).
_ENTRY_ROLES = {"run_scheduler_process": ROLE_SCHEDULER,
                "run_detokenizer_process": ROLE_DETOKENIZER}


class ProcessRecord(NamedTuple):
    pid: int
    ppid: int
    role: str
    title: str
    loaded_at: float


def role_of(pid: int, caller_names: list[str], main_pid: int | None) -> str:
    if main_pid is not None and pid == main_pid:
        return ROLE_HTTP
    for name in caller_names:
        if name in _ENTRY_ROLES:
            return _ENTRY_ROLES[name]
    return ROLE_OTHER


def _caller_names() -> list[str]:
    names, frame = [], sys._getframe(1)
    while frame is not None:
        names.append(frame.f_code.co_name)
        frame = frame.f_back
    return names


def _title() -> str:
    try:
        import setproctitle

        return setproctitle.getproctitle()
    except ImportError:  # pragma: no cover - setproctitle is an SGLang dependency
        return ""


def record_this_process(state_dir: str) -> ProcessRecord:
    pid, title = os.getpid(), _title()
    record = ProcessRecord(pid, os.getppid(), role_of(pid, _caller_names(), env.main_pid()), title,
                           time.time())
    if state_dir:
        path = Path(state_dir)
        path.mkdir(parents=True, exist_ok=True)
        tmp = path / f".plugin-{pid}.json.tmp"
        tmp.write_text(json.dumps(record._asdict()))
        os.replace(tmp, path / f"plugin-{pid}.json")
    return record


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def live_records(state_dir: str) -> list[ProcessRecord]:
    """Records of processes that are still running, ordered by role then pid."""
    records = []
    for path in sorted(Path(state_dir).glob("plugin-*.json")) if state_dir else []:
        try:
            record = ProcessRecord(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            continue
        if _alive(record.pid):
            records.append(record)
    return sorted(records, key=lambda r: (r.role, r.pid))
