"""The one module that reads agentrt's environment variables.

| variable            | meaning                                                           |
|---------------------|-------------------------------------------------------------------|
| AGENTRT_CACHE_DIR   | where prepared models live (default: $XDG_CACHE_HOME/agentrt)      |
| AGENTRT_CONFIG      | JSON of AgentrtConfig, set by the launcher for SGLang's processes  |
| AGENTRT_MAIN_PID    | pid of the launcher (the process that serves HTTP)                 |
"""
import os
from pathlib import Path
from typing import Optional

CONFIG_VAR = "AGENTRT_CONFIG"
MAIN_PID_VAR = "AGENTRT_MAIN_PID"
CACHE_DIR_VAR = "AGENTRT_CACHE_DIR"


def default_cache_dir() -> Path:
    explicit = os.environ.get(CACHE_DIR_VAR)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "agentrt"


def config_json() -> Optional[str]:
    return os.environ.get(CONFIG_VAR)


def main_pid() -> Optional[int]:
    value = os.environ.get(MAIN_PID_VAR)
    return int(value) if value and value.isdigit() else None


def export_for_children(config_json_text: str, pid: int) -> None:
    """Called once by the launcher: SGLang's processes inherit these."""
    os.environ[CONFIG_VAR] = config_json_text
    os.environ[MAIN_PID_VAR] = str(pid)
