import argparse

import pytest

from agentrt.config import AgentrtConfig


def parse(argv):
    parser = argparse.ArgumentParser()
    AgentrtConfig.add_cli_args(parser)
    ns, rest = parser.parse_known_args(argv)
    return AgentrtConfig.from_cli_args(ns), rest


def test_defaults_and_unknown_flags_pass_through():
    config, rest = parse(["--port", "1234", "--agentrt-kv-max-tokens", "8192"])
    assert config.kv_max_tokens == 8192
    assert config.kv_memory_fraction == AgentrtConfig().kv_memory_fraction
    assert rest == ["--port", "1234"]


def test_bool_flag_negation():
    config, _ = parse(["--no-agentrt-cpu-defaults"])
    assert config.cpu_defaults is False


def test_json_round_trip_ignores_unknown_keys():
    config = AgentrtConfig(state_dir="/tmp/x", kv_max_tokens=4096)
    text = config.to_json()
    assert AgentrtConfig.from_json(text) == config
    assert AgentrtConfig.from_json(text[:-1] + ', "future_flag": 1}') == config


@pytest.mark.parametrize("kw", [{"kv_memory_fraction": 0.0}, {"kv_memory_fraction": 0.95},
                                {"kv_max_tokens": 10}])
def test_invalid_values_rejected(kw):
    with pytest.raises(ValueError, match="--agentrt-"):
        AgentrtConfig(**kw)


def test_current_reads_environment(monkeypatch):
    monkeypatch.delenv("AGENTRT_CONFIG", raising=False)
    assert AgentrtConfig.current() is None
    monkeypatch.setenv("AGENTRT_CONFIG", AgentrtConfig(kv_max_tokens=2048).to_json())
    assert AgentrtConfig.current().kv_max_tokens == 2048


def test_config_imports_nothing_above_it():
    """config.py sits below server/: it never imports it (the policy names live here)."""
    import ast
    from pathlib import Path

    import agentrt.config

    tree = ast.parse(Path(agentrt.config.__file__).read_text())
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)] + \
        [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m and m.startswith("agentrt.server")]
    with pytest.raises(ValueError, match="program-policy"):
        AgentrtConfig(program_policy="random")
