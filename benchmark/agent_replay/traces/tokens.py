"""Token counters for scaling traces: the default model's tokenizer, or a documented estimate.

`model_counter()` loads ``tokenizer.json`` of the prepared default model with `tokenizers` (fast,
no transformers import); when the model is not prepared yet it falls back to `approx_tokens`,
about 2.6 characters per token (measured with SmolLM2's tokenizer on the nemo-gym rollouts).
"""
import math
from pathlib import Path

from benchmark.agent_replay.traces.scaling import Counter

CHARS_PER_TOKEN = 2.6


def approx_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def tokenizer_counter(model_dir: Path) -> Counter:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    return lambda text: len(tok.encode(text, add_special_tokens=False).ids)


def model_counter(model_dir: Path | None = None) -> Counter:
    """The default model's tokenizer when its prepared folder exists, else `approx_tokens`."""
    if model_dir is None:
        from agentrt.models import model_dir as default_dir

        model_dir = default_dir()
    if (Path(model_dir) / "tokenizer.json").is_file():
        return tokenizer_counter(model_dir)
    return approx_tokens
