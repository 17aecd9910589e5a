"""Let the CUDA-built torchvision wheel import next to CPU torch.

SGLang imports torchvision along radix_cache -> memory_pool -> ... -> multimodal utils. The PyPI
wheel's compiled ops need libtorch_cuda, and its op registrations then fail at import. The guard
below skips only those registrations; nothing agentrt uses needs them. Idempotent.
"""
import importlib.util
import pathlib
import sys

MARK = "patched by agentrt for CPU-only torch"
OLD = "from torchvision import (\n    _autograd_registrations,\n    _meta_registrations,\n"
NEW = (f"try:  # {MARK}\n    from torchvision import _autograd_registrations, _meta_registrations\n"
       "except Exception:\n    pass\nfrom torchvision import (\n")


def main() -> int:
    spec = importlib.util.find_spec("torchvision")
    if spec is None:
        print("patch_torchvision: torchvision is not installed", file=sys.stderr)
        return 1
    path = pathlib.Path(spec.origin)
    text = path.read_text()
    if MARK in text:
        return 0
    if OLD not in text:
        print(f"patch_torchvision: unexpected {path}; is torchvision==0.28.0 installed?", file=sys.stderr)
        return 1
    path.write_text(text.replace(OLD, NEW, 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
