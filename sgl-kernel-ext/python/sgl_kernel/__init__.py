"""`sgl_kernel` for SGLang's CPU engine, provided by agentrt's sgl-kernel-ext.

SGLang 0.5.23 with ``SGLANG_USE_CPU_ENGINE=1`` imports names from ``sgl_kernel`` at module import
time in many files; a dense Llama/Qwen2 model then *calls* only the memory helpers implemented in
:mod:`sgl_kernel.memory`, and, with n-gram-style speculative decoding (AGENTSAM), the verify-path
kernels of :mod:`sgl_kernel.speculative`. Every other name still imports (so SGLang's modules
load), but calling it raises :class:`UnsupportedKernelError` naming the kernel: those serve MoE,
MLA, quantised and draft-model (EAGLE) paths that agentrt does not run on CPU.

Note that ``torch.ops.sgl_kernel`` stays empty, so SGLang's AMX fast paths
(``cpu_has_amx_support()``) stay off and its ``forward_native`` torch paths are used.
"""
from sgl_kernel import speculative
from sgl_kernel.memory import assign_req_to_token_pool_cpu
from sgl_kernel.speculative import (assign_extend_cache_locs_cpu, copy_all_layer_kv_cache_cpu,
                                    fill_accept_out_cache_loc_cpu, fill_bonus_tokens_cpu,
                                    verify_tree_greedy_cpu)

__version__ = "0.2.0+agentrt.cpu"
IMPLEMENTED = ("assign_req_to_token_pool_cpu", "assign_extend_cache_locs_cpu",
               "copy_all_layer_kv_cache_cpu", "fill_accept_out_cache_loc_cpu",
               "fill_bonus_tokens_cpu", "verify_tree_greedy_cpu",
               "speculative.reconstruct_indices_from_tree_mask")
__all__ = ["speculative", *IMPLEMENTED[:-1], "UnsupportedKernelError", "IMPLEMENTED"]


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
            "draft-model speculative path; run that configuration on a CUDA machine."
        )

    def __repr__(self) -> str:
        return f"<unsupported sgl_kernel.{self.__name__}>"


def __getattr__(name: str):  # PEP 562: `from sgl_kernel import X` succeeds for any X
    if name.startswith("__"):
        raise AttributeError(name)
    kernel = _UnsupportedKernel(name)
    globals()[name] = kernel
    return kernel
