"""`agentrt serve` refuses bad input before anything heavy starts."""
import socket

import pytest

from agentrt.server.launch import main as launcher, plugin


@pytest.fixture(autouse=True)
def cpu_engine(monkeypatch):
    monkeypatch.setenv("SGLANG_USE_CPU_ENGINE", "1")


def test_missing_model_path(tmp_path):
    with pytest.raises(launcher.LaunchError, match="does not exist"):
        launcher.prepare(["--model-path", str(tmp_path / "nope")])


def test_port_in_use(tmp_path):
    (tmp_path / "config.json").write_text('{"num_hidden_layers": 1, "num_attention_heads": 1,'
                                          ' "hidden_size": 8}')
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(launcher.LaunchError, match=f"127.0.0.1:{port}"):
            launcher.prepare(["--model-path", str(tmp_path), "--port", str(port)])


def test_wrong_sglang_version(monkeypatch):
    monkeypatch.setattr(plugin, "installed_sglang_version", lambda: None)
    with pytest.raises(launcher.LaunchError, match="sglang not installed"):
        launcher.prepare([])


def test_bad_agentrt_value():
    with pytest.raises(launcher.LaunchError, match="kv-memory-fraction"):
        launcher.prepare(["--agentrt-kv-memory-fraction", "2"])


def test_main_prints_error_and_exits_2(tmp_path, capsys):
    assert launcher.main(["--model-path", str(tmp_path / "nope")]) == 2
    assert "agentrt serve: error: model path" in capsys.readouterr().err


def test_prepare_fills_defaults_and_private_state_dir(tmp_path):
    (tmp_path / "config.json").write_text('{"num_hidden_layers": 1, "num_attention_heads": 1,'
                                          ' "hidden_size": 8}')
    config, argv, own = launcher.prepare(["--model-path", str(tmp_path), "--port", "0"])
    assert own and config.state_dir
    assert "--enable-cache-report" in argv and "--sleep-on-idle" in argv
    __import__("shutil").rmtree(config.state_dir)
