"""agentrt: lookahead context engineering for long-running LLM agents, on SGLang 0.5.23."""
__version__ = "0.1.0"
SGLANG_VERSION = "0.5.23"
