"""Counters of the lookahead scheduler, kept in the scheduler process (read by control ops)."""
from collections import Counter


class SchedulerStats:
    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.bg_admitted = 0
        self.bg_tokens = 0
        self.bg_chunks = 0
        self.bg_denied = 0
        self.denied_reasons: Counter = Counter()
        self.promoted = 0
        self.reorders = 0          # waiting queues whose order the lookahead policy changed
        self.steps = 0
        self.last_step_ms = 0.0

    def admitted(self, tokens: int) -> None:
        """Background prefill tokens scheduled (one chunk)."""
        if tokens > 0:
            self.bg_tokens += tokens
            self.bg_chunks += 1

    def denied(self, reason: str) -> None:
        self.bg_denied += 1
        self.denied_reasons[reason.split(" ")[0] if reason[0].isdigit() else reason] += 1

    def step_finished(self, step_ms: float) -> None:
        self.last_step_ms = step_ms
        self.steps += 1

    def to_json(self) -> dict:
        return {"bg_admitted": self.bg_admitted, "bg_tokens_prefilled": self.bg_tokens,
                "bg_chunks": self.bg_chunks,
                "bg_denied": self.bg_denied, "bg_denied_reasons": dict(self.denied_reasons),
                "promoted_commits": self.promoted, "reorders": self.reorders,
                "steps": self.steps,
                "last_step_ms": round(self.last_step_ms, 2)}


STATS = SchedulerStats()
