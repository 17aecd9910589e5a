"""Session pins: locks that keep a session's KV for a while (tool-call TTL, or after a commit)."""
from dataclasses import dataclass
from typing import Any, Optional


@dataclass
class Pin:
    session_id: str
    node: Any                  # tree node holding one lock for this pin
    tokens: int                # context length pinned
    started_at: float
    expires_at: float
    reason: str                # "tool:<name>" or "commit:<branch id>"
    tool: Optional[str] = None

    def remaining_s(self, now: float) -> float:
        return max(0.0, self.expires_at - now)

    def to_json(self, now: float) -> dict:
        return {"session_id": self.session_id, "tokens": self.tokens, "reason": self.reason,
                "tool": self.tool, "ttl_remaining_s": round(self.remaining_s(now), 3)}
