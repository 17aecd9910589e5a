"""SGLang flags and environment that make it serve well on a CPU-only machine.

Measured on 2-core machines (notes/sglang-0.5.23-on-cpu.md): the CPU engine must be on
(SGLANG_USE_CPU_ENGINE=1), float32 beats fp16/bf16 (no AVX512-FP16), --sleep-on-idle avoids a
10-80x slowdown from the scheduler's busy poll, and the default KV pool (72% of RAM) takes 27 s
to allocate, so the pool is sized from the model's per-token KV bytes and available memory.
With agentrt's bounded prefill steps next to decoding (--agentrt-fg-max-chunk-ms), mixed
chunked prefill (--enable-mixed-chunk) lets the running requests decode inside each such step:
they get a token every step, and no decode step is spent between chunks.
Flags the user gave are never overridden.
"""
import json
import os
import shutil
import subprocess

from agentrt.config import AgentrtConfig
from agentrt.server.launch.cli_args import flag_value, with_default

FLOAT32_BYTES = 4


def has_cuda() -> bool:
    if not shutil.which("nvidia-smi"):
        return False
    try:
        return subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def available_memory_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def kv_bytes_per_token(model_path: str) -> int:
    """K and V, every layer, float32: 2 * layers * kv_heads * head_dim * 4."""
    with open(os.path.join(model_path, "config.json")) as fh:
        cfg = json.load(fh)
    heads = cfg["num_attention_heads"]
    kv_heads = cfg.get("num_key_value_heads") or heads
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // heads
    return 2 * cfg["num_hidden_layers"] * kv_heads * head_dim * FLOAT32_BYTES


def kv_pool_tokens(model_path: str, config: AgentrtConfig, available: int) -> int:
    """Tokens of KV pool: a fraction of available RAM, at most kv_max_tokens, in 1024 steps."""
    tokens = int(available * config.kv_memory_fraction) // kv_bytes_per_token(model_path)
    tokens = min(tokens, config.kv_max_tokens)
    return max(4096, tokens // 1024 * 1024)


def enable_cpu_engine() -> None:
    """Without it SGLang's `--device cpu` takes CUDA-style code paths; read at import time."""
    os.environ["SGLANG_USE_CPU_ENGINE"] = "1"


def apply(argv: list[str], config: AgentrtConfig) -> list[str]:
    argv = with_default(argv, "--device", "cpu")
    argv = with_default(argv, "--dtype", "float32")
    argv = with_default(argv, "--sleep-on-idle")
    if config.fg_max_chunk_ms > 0:
        argv = with_default(argv, "--enable-mixed-chunk")
    model = flag_value(argv, "--model-path", "--model")
    if model and flag_value(argv, "--max-total-tokens") is None:
        tokens = kv_pool_tokens(os.path.expanduser(model), config, available_memory_bytes())
        argv = argv + ["--max-total-tokens", str(tokens)]
    return argv
