"""agentrt: an agent-serving runtime on SGLang 0.5.23 (package `agentrt`, sources in python/)."""
from setuptools import find_packages, setup

setup(
    name="agentrt",
    version="0.1.0",
    description="Lookahead context engineering for LLM agents on SGLang",
    package_dir={"": "python"},
    packages=find_packages("python"),
    package_data={"agentrt.server.http": ["static/*.html"]},   # the radix-tree web view
    python_requires=">=3.11",
    entry_points={
        # loaded by sglang.srt.plugins.load_plugins() in SGLang's engine, scheduler and
        # detokenizer processes
        "sglang.srt.plugins": ["agentrt = agentrt.server.launch.plugin:register"],
        "console_scripts": ["agentrt = agentrt.cli:main"],
    },
)
