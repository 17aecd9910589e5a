"""A server told to stop (SIGTERM) while an agentrt control call waits on its scheduler answers
that call with 503 at once, and refuses new ones the same way, instead of holding each for its
whole timeout. The scheduler is frozen (SIGSTOP) so the call is surely in flight; SIGTERM goes to
the server's main process, where SGLang starts draining."""
import os
import signal
import threading
import time

import psutil
import requests

from agentrt.client.managed_server import ManagedServer


def _scheduler(server: ManagedServer) -> psutil.Process:
    children = psutil.Process(server.proc.pid).children(recursive=True)
    found = [p for p in children if "scheduler" in " ".join(p.cmdline()) + p.name()]
    assert found, [p.name() for p in children]
    return found[0]


def test_a_control_call_in_flight_at_shutdown_is_answered_503_at_once(tiny_model, tmp_path):
    server = ManagedServer(["--model-path", str(tiny_model), "--max-total-tokens", "4096"],
                           log_path=tmp_path / "server.log").start()
    scheduler = None
    try:
        assert requests.get(server.url + "/agentrt/scheduler", timeout=60).status_code == 200
        scheduler = _scheduler(server)
        scheduler.suspend()
        answer = {}

        def in_flight():
            resp = requests.get(server.url + "/agentrt/scheduler", timeout=120)
            answer.update(status=resp.status_code, text=resp.text, at=time.monotonic())

        caller = threading.Thread(target=in_flight)
        caller.start()
        time.sleep(1.0)
        assert caller.is_alive(), answer     # waiting on the frozen scheduler
        terminated = time.monotonic()
        os.kill(server.proc.pid, signal.SIGTERM)
        caller.join(timeout=20)
        assert not caller.is_alive(), "the call waited on after the server began to stop"
        assert answer["status"] == 503 and "shutting down" in answer["text"], answer
        assert answer["at"] - terminated < 3.0
        new = requests.get(server.url + "/agentrt/scheduler", timeout=20)
        assert new.status_code == 503 and "shutting down" in new.text
    finally:
        if scheduler is not None and scheduler.is_running():
            scheduler.resume()
        server.stop()
