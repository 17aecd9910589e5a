"""LookaheadSettings: the knobs of LookaheadRadixCache (filled from AgentrtConfig by the plugin)."""
from dataclasses import dataclass, field

from agentrt.radix.branch import LookaheadError
from agentrt.radix.ttl import TtlConfig


@dataclass(frozen=True)
class LookaheadSettings:
    # Tokens that prepared branches and pins may hold locked, at most. None: a fraction of the pool.
    budget_tokens: int | None = None
    budget_fraction: float = 0.25
    # After a commit the branch stays pinned this long for the commit request to arrive.
    commit_pin_ttl_s: float = 30.0
    # Estimated cost of re-prefilling one token (CPU, SmolLM2-135M: ~1.2 ms); sets TTL benefit.
    prefill_s_per_token: float = 0.0012
    vocab_size: int | None = None
    ttl: TtlConfig = field(default_factory=TtlConfig)
    # Ended jobs' lengths kept across restarts (JSON lines; "": in memory only), and the highest
    # chance of a job ending before its commit at which a preparation starts (job_length.py).
    job_history: str = ""
    max_end_risk: float = 0.5

    def __post_init__(self):
        if self.budget_tokens is not None and self.budget_tokens < 0:
            raise ValueError("budget_tokens must be >= 0")
        if not 0.0 <= self.budget_fraction <= 1.0:
            raise ValueError("budget_fraction must be in [0, 1]")
        if self.commit_pin_ttl_s < 0 or self.prefill_s_per_token < 0:
            raise ValueError("commit_pin_ttl_s and prefill_s_per_token must be >= 0")
        if not 0.0 <= self.max_end_risk <= 1.0:
            raise ValueError("max_end_risk must be in [0, 1]")

    @classmethod
    def from_config(cls, config, vocab_size: int | None = None) -> "LookaheadSettings":
        """From an AgentrtConfig (the --agentrt-* flags)."""
        window = max(1000, config.tool_ttl_min_samples)
        return cls(budget_fraction=config.lookahead_budget_fraction,
                   commit_pin_ttl_s=config.commit_pin_ttl_s, vocab_size=vocab_size,
                   job_history=config.job_history, max_end_risk=config.max_end_risk,
                   ttl=TtlConfig(default_ttl_s=config.tool_ttl_default_s,
                                 min_samples=config.tool_ttl_min_samples, window=window))

    def check_tokens(self, tokens: list[int]) -> None:
        """Every id is an int token of the vocabulary, else LookaheadError (HTTP 400)."""
        vocab = self.vocab_size
        for t in tokens:
            if not isinstance(t, int) or isinstance(t, bool) or t < 0 or (vocab and t >= vocab):
                raise LookaheadError(f"token id {t!r} is out of vocabulary"
                                     + (f" (size {vocab})" if vocab else ""))

    def budget_for_pool(self, pool_tokens: int) -> int:
        if self.budget_tokens is not None:
            return self.budget_tokens
        return int(pool_tokens * self.budget_fraction)
