"""Build a tiny random-weight Llama with a locally trained tokenizer, for fast tests.

Nothing is downloaded: the BPE tokenizer is trained on a small built-in English corpus, the
weights come from a fixed seed, and the ChatML chat template matches the default model's. The
result is cached under ``<cache>/test-models/<name>-<spec hash>`` and rebuilt only when the spec
changes. Its logits are nearly flat (random weights), so tests compare logits, not greedy text.
"""
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from agentrt import env

CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}")
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CORPUS_WORDS = (
    "the a an of to in is it that for on with as was at by this be are from or have not but "
    "agent tool call result file read write list search summary context window token cache "
    "prefix branch session commit prepare append abandon server request response model runtime "
    "python function class return import def if else for while try except with yield async "
    "await true false none self value key node tree radix lock evict memory page slot kernel "
    "attention query batch decode prefill schedule priority background foreground latency "
    "hello world please answer question review repository code test error message user system "
    "assistant one two three four five six seven eight nine ten zero first last next previous")


@dataclass(frozen=True)
class TinySpec:
    vocab_size: int = 512
    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    max_position_embeddings: int = 8192
    seed: int = 0

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


def _corpus() -> list[str]:
    words = CORPUS_WORDS.split()
    lines = []
    for i in range(400):
        lines.append(" ".join(words[(i * 7 + j * 13) % len(words)] for j in range(12)) + ".")
    lines += ["0123456789 ()[]{}<>=+-*/_.,:;'\"!?#@$%&|\\^`~" for _ in range(10)]
    return lines


def _build_tokenizer(spec: TinySpec, out: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=spec.vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|im_start|>",
                                   eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   unk_token="<|endoftext|>")
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(str(out))
    return fast


def _build_model(spec: TinySpec, tokenizer, out: Path) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(spec.seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size, num_hidden_layers=spec.num_hidden_layers,
        num_attention_heads=spec.num_attention_heads,
        num_key_value_heads=spec.num_key_value_heads,
        max_position_embeddings=spec.max_position_embeddings, tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, dtype="float32")
    model = LlamaForCausalLM(config).to(torch.float32)
    model.save_pretrained(str(out), safe_serialization=True)


def build_tiny_model(cache_dir: str | os.PathLike | None = None,
                     spec: TinySpec = TinySpec(), name: str = "tiny-llama") -> Path:
    root = Path(cache_dir) if cache_dir else env.default_cache_dir()
    target = root / "test-models" / f"{name}-{spec.digest()}"
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    try:
        tokenizer = _build_tokenizer(spec, tmp)
        _build_model(spec, tokenizer, tmp)
        tmp.chmod(0o755)
        if not target.exists():
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
