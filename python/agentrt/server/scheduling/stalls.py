"""The longest stalls: prefill steps that ran while other requests were decoding.

SGLang runs a prefill step and the running decode batch one after the other, never together (no
mixed chunks here), so every request decoding at the time waits the whole prefill step between
two of its tokens. These steps make a server's time-between-tokens tail; the longest of them,
with what they prefilled, say whose work it was: foreground turns, or branch prefills (a
promoted preparation goes ahead of decoding; background chunks do not, policy.py).

Kept: how many stalls there were and their total time (``stats.stalls``, ``stats.stalled_s``),
and the ``keep`` longest since the server started, each a plain dict for the scheduler's JSON
(``/agentrt/scheduler`` -> ``stats.longest_stalls``): when it ended (Unix seconds), its time,
its prefill tokens, how many of them were branch prefills, and how many requests waited on it.
"""
import heapq
import time

KEEP = 16


class LongestStalls:
    def __init__(self, keep: int = KEEP):
        self.keep = keep
        self._heap: list[tuple[float, int, dict]] = []   # min-heap on step ms
        self.count = 0
        self.total_ms = 0.0

    def observe(self, step_ms: float, prefill_tokens: int, branch_tokens: int,
                decoding: int) -> None:
        """A prefill step of ``prefill_tokens`` (``branch_tokens`` for branches) that held
        ``decoding`` requests' next tokens; steps no request waited on are not stalls."""
        if decoding <= 0 or prefill_tokens <= 0:
            return
        self.count += 1
        self.total_ms += step_ms
        if len(self._heap) >= self.keep and step_ms <= self._heap[0][0]:
            return
        stall = {"ended_unix": round(time.time(), 3), "ms": round(step_ms, 1),
                 "prefill_tokens": prefill_tokens, "branch_tokens": branch_tokens,
                 "decoding": decoding}
        entry = (step_ms, self.count, stall)
        if len(self._heap) < self.keep:
            heapq.heappush(self._heap, entry)
        else:
            heapq.heapreplace(self._heap, entry)

    def to_json(self) -> list[dict]:
        """The stalls kept, longest first."""
        return [stall for _, _, stall in sorted(self._heap, reverse=True)]
