import json

import pytest

from agentrt.config import AgentrtConfig
from agentrt.server.launch import cpu_defaults


@pytest.fixture
def model_dir(tmp_path):
    # SmolLM2-135M's shape: 30 layers, 9 heads, 3 KV heads, head dim 64
    (tmp_path / "config.json").write_text(json.dumps({
        "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
        "hidden_size": 576, "head_dim": 64}))
    return tmp_path


def test_kv_bytes_per_token(model_dir):
    assert cpu_defaults.kv_bytes_per_token(str(model_dir)) == 2 * 30 * 3 * 64 * 4


def test_kv_pool_tokens_fraction_cap_and_floor(model_dir):
    per_token = 2 * 30 * 3 * 64 * 4
    config = AgentrtConfig(kv_memory_fraction=0.1, kv_max_tokens=1 << 20)
    tokens = cpu_defaults.kv_pool_tokens(str(model_dir), config, available=per_token * 500_000)
    assert tokens == 50_000 // 1024 * 1024
    capped = AgentrtConfig(kv_memory_fraction=0.1, kv_max_tokens=8192)
    assert cpu_defaults.kv_pool_tokens(str(model_dir), capped, per_token * 500_000) == 8192
    assert cpu_defaults.kv_pool_tokens(str(model_dir), config, available=1) == 4096


def test_apply_fills_only_missing_flags(model_dir, monkeypatch):
    monkeypatch.setattr(cpu_defaults, "available_memory_bytes", lambda: 10 ** 10)
    argv = cpu_defaults.apply(["--model-path", str(model_dir), "--dtype", "bfloat16"],
                              AgentrtConfig())
    assert argv.count("--dtype") == 1 and argv[argv.index("--dtype") + 1] == "bfloat16"
    assert argv[argv.index("--device") + 1] == "cpu"
    assert "--sleep-on-idle" in argv and "--enable-mixed-chunk" not in argv
    assert int(argv[argv.index("--max-total-tokens") + 1]) % 1024 == 0
    bounded = cpu_defaults.apply(["--model-path", str(model_dir)],
                                 AgentrtConfig(fg_max_chunk_ms=500.0))
    assert bounded.count("--enable-mixed-chunk") == 1     # decode rows ride in its chunks
    kept = cpu_defaults.apply(["--model-path", str(model_dir), "--max-total-tokens", "777"],
                              AgentrtConfig())
    assert kept.count("--max-total-tokens") == 1
