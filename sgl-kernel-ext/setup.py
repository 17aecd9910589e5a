"""agentrt's sgl-kernel-ext.

- ``sgl_kernel``: the module SGLang's CPU engine imports (memory helpers a dense model calls,
  clear errors for the rest).
- ``agentrt_kernels``: CPU attention over SGLang's KV pool (C++ extension ``agentrt_kernels._C``
  built here with OpenMP, plus the pure-torch fallback it degrades to).

The C++ extension is optional: if it cannot be built (no compiler, no torch headers), the
package installs without it and ``agentrt_kernels.IMPLEMENTATION`` reports "torch".
"""
import os
import sys

from setuptools import setup

ext_modules, cmdclass = [], {}
if os.environ.get("AGENTRT_NO_CPP") != "1":
    try:
        from torch.utils.cpp_extension import BuildExtension, CppExtension

        ext_modules = [CppExtension(
            "agentrt_kernels._C", ["csrc/cpu_attention.cpp"],
            extra_compile_args=["-O3", "-fopenmp"],
            extra_link_args=["-fopenmp"])]
        cmdclass = {"build_ext": BuildExtension.with_options(use_ninja=False)}
    except ImportError as exc:  # torch missing at build time: install the fallback only
        print(f"sgl-kernel-ext: building without the C++ extension ({exc})", file=sys.stderr)

setup(
    name="agentrt-sgl-kernel-ext",
    version="0.2.0",
    description="CPU kernels for SGLang 0.5.23 under agentrt",
    package_dir={"": "python"},
    packages=["sgl_kernel", "agentrt_kernels"],
    ext_modules=ext_modules,
    cmdclass=cmdclass,
    python_requires=">=3.11",
)
