"""`sgl_kernel` for SGLang's CPU engine, provided by agentrt's sgl-kernel-ext.

SGLang 0.5.23 with ``SGLANG_USE_CPU_ENGINE=1`` imports names from ``sgl_kernel`` at module import
time in many files; a dense Llama/Qwen2 model then *calls* only the memory helpers implemented in
:mod:`sgl_kernel.memory`. Every other name still imports (so SGLang's modules load), but calling
it raises :class:`UnsupportedKernelError` naming the kernel: those serve MoE, MLA, quantised and
speculative-decoding paths that agentrt does not run on CPU.

Note that ``torch.ops.sgl_kernel`` stays empty, so SGLang's AMX fast paths
(``cpu_has_amx_support()``) stay off and its ``forward_native`` torch paths are used.
"""
from sgl_kernel.memory import assign_req_to_token_pool_cpu

__version__ = "0.1.0+agentrt.cpu"
__all__ = ["assign_req_to_token_pool_cpu", "UnsupportedKernelError", "IMPLEMENTED"]

IMPLEMENTED = ("assign_req_to_token_pool_cpu",)


class UnsupportedKernelError(NotImplementedError):
    """Raised when SGLang calls an sgl_kernel function that has no CPU implementation here."""


class _UnsupportedKernel:
    """Placeholder bound to a name SGLang imports but a dense CPU model never calls."""

    def __init__(self, name: str):
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        raise UnsupportedKernelError(
            f"sgl_kernel.{self.__name__} has no CPU implementation in agentrt's sgl-kernel-ext "
            f"(implemented: {', '.join(IMPLEMENTED)}). It serves a GPU, MoE, quantised or "
            "speculative-decoding path; run that configuration on a CUDA machine."
        )

    def __repr__(self) -> str:
        return f"<unsupported sgl_kernel.{self.__name__}>"


def __getattr__(name: str):  # PEP 562: `from sgl_kernel import X` succeeds for any X
    if name.startswith("__"):
        raise AttributeError(name)
    kernel = _UnsupportedKernel(name)
    globals()[name] = kernel
    return kernel
