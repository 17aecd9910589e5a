"""ManagedServer: a start that loses its chosen port to another process retries on a new one."""
import socket
import sys
import textwrap

import pytest

from agentrt.client import managed_server
from agentrt.client.managed_server import ManagedServer, PortInUse

# A stand-in server: fails like `agentrt serve` when its port is taken, else answers /health.
FAKE_SERVER = textwrap.dedent("""
    import argparse, http.server, sys
    p = argparse.ArgumentParser(); p.add_argument("--host"); p.add_argument("--port", type=int)
    args, _ = p.parse_known_args()
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.end_headers()
        def log_message(self, *a): pass
    try:
        server = http.server.HTTPServer((args.host, args.port), Health)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", flush=True)
        sys.exit(2)
    server.serve_forever()
""")


@pytest.fixture
def fake_module(tmp_path, monkeypatch):
    (tmp_path / "fake_server.py").write_text(FAKE_SERVER)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    return "fake_server"


@pytest.fixture
def taken_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_chosen_port_taken_before_the_start_is_replaced(fake_module, taken_port, monkeypatch,
                                                           tmp_path):
    ports = iter([taken_port, taken_port])
    monkeypatch.setattr(managed_server, "free_port", lambda: next(ports, _really_free()))
    server = ManagedServer(module=fake_module, log_path=tmp_path / "s.log", ready_timeout_s=20)
    assert server.port == taken_port
    with server:
        assert server.port != taken_port
        assert server.proc.poll() is None


def test_a_port_the_caller_named_is_never_replaced(fake_module, taken_port, tmp_path):
    server = ManagedServer(port=taken_port, module=fake_module, log_path=tmp_path / "s.log",
                           ready_timeout_s=20)
    with pytest.raises(PortInUse):
        server.start()
    assert server.port == taken_port


def _really_free() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
