"""The launcher's command line, as a user runs it."""
import subprocess
import sys
from pathlib import Path


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "agentrt.launch_server", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_help_lists_agentrt_and_sglang_flags():
    agentrt = Path(sys.executable).parent / "agentrt"  # the console script in the venv
    out = subprocess.run([str(agentrt), "serve", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0
    for flag in ("--agentrt-cache-dir", "--agentrt-kv-memory-fraction", "--model-path",
                 "--radix-cache-backend"):
        assert flag in out.stdout


def test_nonexistent_model_path_exits_2(tmp_path):
    out = run("--model-path", str(tmp_path / "missing"))
    assert out.returncode == 2
    assert "does not exist" in out.stderr


def test_port_in_use_exits_2(server, tiny_model):
    out = run("--model-path", str(tiny_model), "--port", str(server.port))
    assert out.returncode == 2
    assert f"cannot listen on 127.0.0.1:{server.port}" in out.stderr
