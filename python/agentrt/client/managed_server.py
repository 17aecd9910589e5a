"""ManagedServer: run `agentrt serve` as a child process, wait until it is healthy, stop it cleanly.

Used by the demo, the integration tests and the benchmarks. The server runs in its own process
group, so stopping it (SIGTERM, then SIGKILL after a grace period) also ends SGLang's scheduler
and detokenizer processes: nothing is left behind.
"""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


class ServerStartError(RuntimeError):
    """The server exited or did not become healthy in time; the message ends with its log."""


class PortInUse(ServerStartError):
    """The server exited because its port was taken before it could listen."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ManagedServer:
    def __init__(self, args: list[str] | None = None, *, port: int | None = None,
                 log_path: str | os.PathLike | None = None, ready_timeout_s: float = 300.0,
                 env: dict | None = None, module: str = "agentrt.launch_server"):
        """``module`` = "sglang.launch_server" runs plain SGLang (a baseline), same flags.

        Without ``port`` the server takes a free loopback port; a free port can be taken by
        another process before the server binds it (another server's internal ports, on a busy
        machine), so a start that fails only because the port is in use retries on a new one.
        """
        self.args = list(args or [])
        self.module = module
        self.port_chosen = port is None
        self.port = port or free_port()
        self.log_path = Path(log_path) if log_path else Path(f"/tmp/agentrt-server-{self.port}.log")
        self.ready_timeout_s = ready_timeout_s
        self.env = env
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def start(self, port_attempts: int = 3) -> "ManagedServer":
        for attempt in range(port_attempts):
            try:
                return self._start_once()
            except PortInUse:
                if not self.port_chosen or attempt == port_attempts - 1:
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")

    def _start_once(self) -> "ManagedServer":
        cmd = [sys.executable, "-m", self.module, "--host", "127.0.0.1",
               "--port", str(self.port), *self.args]
        env = dict(os.environ, **(self.env or {}))
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                         start_new_session=True)
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                error = PortInUse if "Address already in use" in self.log_tail() else \
                    ServerStartError
                raise error(f"server exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        raise ServerStartError(f"server not healthy after {self.ready_timeout_s:.0f} s:\n"
                               f"{self.log_tail()}")

    def stop(self, grace_s: float = 30.0) -> None:
        """SIGTERM the whole process group; SIGKILL whatever is still alive after ``grace_s``."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the child leads its own process group
        _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and (self.proc.poll() is None or _group_alive(pgid)):
            time.sleep(0.2)
        if _group_alive(pgid):
            _signal_group(pgid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None

    def __enter__(self) -> "ManagedServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
