"""Session pins: locks that keep a session's KV for a while (tool-call TTL, or after a commit)."""
from dataclasses import dataclass
from typing import Any, Optional

from agentrt.radix.ttl import ToolDurationStats


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


class PinTable:
    """Session pins by session id, at most one per session, each owning one lock on its node.

    The table never locks or unlocks a node: ``add`` is handed a node already locked for the pin
    (a tool pin's fresh lock, or a committed branch's lock), and ``remove`` hands the pin back
    for the caller (LookaheadRadixCache) to release its lock. Tool TTLs follow the tool's
    observed durations (Continuum's rule, ttl.py); the table records them.
    """

    def __init__(self, settings, clock):
        self.settings, self.clock = settings, clock
        self.pins: dict[str, Pin] = {}
        self.tool_stats = ToolDurationStats(settings.ttl)

    def tool_ttl(self, tool: Optional[str], context_tokens: int) -> float:
        """How long to keep a context of ``context_tokens`` while ``tool`` runs (0: not worth
        it): a reload costs its re-prefill."""
        reload_cost = context_tokens * self.settings.prefill_s_per_token
        return self.tool_stats.choose_ttl(tool or "*", reload_cost).ttl_s

    def add(self, session_id: str, node, tokens: int, ttl_s: float, reason: str,
            tool: Optional[str] = None) -> Pin:
        now = self.clock()
        pin = Pin(session_id, node, tokens, now, now + ttl_s, reason, tool)
        self.pins[session_id] = pin
        return pin

    def remove(self, session_id: str) -> Optional[Pin]:
        return self.pins.pop(session_id, None)

    def expired(self) -> list[str]:
        now = self.clock()
        return [sid for sid, pin in self.pins.items() if pin.expires_at <= now]

    def done_at_next_turn(self, session_id: str) -> bool:
        """The session's next request was cached: a tool or commit pin has served (a tool's
        duration is recorded); the caller removes it."""
        pin = self.pins.get(session_id)
        if pin is None or not pin.reason.startswith(("tool:", "commit:")):
            return False
        if pin.tool is not None:
            self.tool_stats.observe(pin.tool, self.clock() - pin.started_at)
        return True
