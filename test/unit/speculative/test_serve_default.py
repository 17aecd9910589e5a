"""`agentrt serve` speculates by default only on the CPU with the default model; off turns it off.

README (speculative decoding): AGENTSAM is on by default when `agentrt serve` runs the embedded
default model on the CPU with agentrt_cpu attention, and ``--agentrt-speculative off`` turns it
off. ``prepare`` is run for real with the model resolution and the CUDA probe replaced.
"""
import pytest

from agentrt.server.launch import cpu_defaults, main as launcher
from agentrt.speculative import serve_default

SPEC = ["--speculative-algorithm", "AGENTSAM"]


@pytest.fixture
def fake_model(tmp_path, monkeypatch):
    """No CUDA; the default model resolves to a tiny folder (no 30 s preparation)."""
    monkeypatch.setenv("SGLANG_USE_CPU_ENGINE", "1")
    (tmp_path / "config.json").write_text('{"num_hidden_layers": 1, "num_attention_heads": 1,'
                                          ' "hidden_size": 8}')
    monkeypatch.setattr(cpu_defaults, "has_cuda", lambda: False)

    def resolve(argv, config):
        if launcher.flag_value(argv, "--model-path") is None:
            return ["--model-path", str(tmp_path)] + argv
        return argv
    monkeypatch.setattr(launcher, "resolve_model", resolve)
    return tmp_path


def served_argv(argv):
    config, out, own = launcher.prepare(argv + ["--port", "0"])
    if own:
        __import__("shutil").rmtree(config.state_dir)
    return out


def speculates(argv) -> bool:
    got = launcher.flag_value(argv, "--speculative-algorithm")
    return got is not None and got.upper() == "AGENTSAM"


def test_default_model_on_cpu_speculates_by_default(fake_model):
    argv = served_argv([])
    assert speculates(argv)
    assert launcher.flag_value(argv, "--attention-backend") == "agentrt_cpu"


def test_off_flag_turns_it_off(fake_model):
    assert not speculates(served_argv(["--agentrt-speculative", "off"]))


def test_explicit_model_path_is_not_speculated_by_default(fake_model):
    assert not speculates(served_argv(["--model-path", str(fake_model)]))
    assert speculates(served_argv(["--model-path", str(fake_model),
                                   "--agentrt-speculative", "agentsam"]))


def test_other_attention_backend_is_not_speculated_by_default(fake_model):
    assert not speculates(served_argv(["--attention-backend", "torch_native"]))


def test_cuda_is_not_speculated_by_default():
    argv = ["--model-path", "m", "--attention-backend", "agentrt_cpu"]
    assert serve_default.apply(argv, "auto", on_cpu=False, default_model=True) == argv
    assert serve_default.apply(argv, "auto", on_cpu=True, default_model=True) == argv + SPEC


def test_explicit_algorithm_is_left_alone_and_conflicts_refused(fake_model):
    ngram = ["--speculative-algorithm", "NGRAM"]
    assert launcher.flag_value(served_argv(ngram), "--speculative-algorithm") == "NGRAM"
    with pytest.raises(launcher.LaunchError, match="off conflicts"):
        served_argv(["--agentrt-speculative", "off"] + ngram)
    with pytest.raises(launcher.LaunchError, match="agentsam conflicts"):
        served_argv(["--agentrt-speculative", "agentsam"] + ngram)
    argv = served_argv(["--agentrt-speculative", "agentsam"] + SPEC)
    assert argv.count("--speculative-algorithm") == 1


def test_unknown_mode_refused():
    with pytest.raises(ValueError, match="one of auto, off, agentsam"):
        serve_default.apply([], "maybe", on_cpu=True, default_model=True)
    with pytest.raises(SystemExit):
        launcher.prepare(["--agentrt-speculative", "maybe"])
