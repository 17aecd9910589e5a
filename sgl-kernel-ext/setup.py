"""agentrt's sgl-kernel-ext: the `sgl_kernel` module that SGLang's CPU engine imports.

The PyPI sgl-kernel wheels are CUDA-only. On CPU, SGLang 0.5.23 calls exactly one of their
functions for a dense model (`assign_req_to_token_pool_cpu`, on every prefill); this package
implements the ones a dense model needs and raises a clear error for the rest.
"""
from setuptools import setup

setup(
    name="agentrt-sgl-kernel-ext",
    version="0.1.0",
    description="CPU sgl_kernel implementations for SGLang 0.5.23 (agentrt)",
    package_dir={"": "python"},
    packages=["sgl_kernel"],
    python_requires=">=3.11",
)
