"""Horizon: an agent's step limit, and whether a commit can still come before its job ends.

Agent loops stop at a step limit (mini-swe-agent's ``step_limit``, the OpenAI Agents SDK's
``max_turns``, LangGraph's ``recursion_limit``). An agent that tells the runtime its limit
(``LookaheadRuntime(max_calls=...)``) spends nothing on a preparation whose commit cannot come:
a commit happens only before a model call, so once the context cannot reach the hard threshold
by the job's last call, a branch prepared for it is waste (abandoned when the session closes).

The rule, at a boundary (or right after a commit)::

    calls_left  = max_calls - model calls made (the one being sent counts as made)
    segments    = (per_call - since the last call) + per_call x (calls_left - 1)
    reachable   iff  calls_left > 0  and  tokens + growth x segments >= hard

``per_call``: the most boundaries the agent passed between two of its model calls (a model
reply and a tool output: 2); ``growth``: its mean segment over the whole job so far
(``Pace.long_run_growth``). The rule prices a sum over several segments, whose lumps average
out; agents' outputs are lumpy (MiniAgent's big tool output every ninth step, nemo-gym's capped
outputs between short ones), so a mean of the last few segments swings with a lull or a burst
and both delays commits that come and prepares for ones that never do, and the largest recent
segment keeps job-end branches reachable until the last boundary (benchmark/README.md, 4 Dec).
A guess that proves low at worst leaves a commit synchronous, as it would be with lookahead
off. Whatever is unknown (no limit given, fewer than two calls seen, no growth yet) leaves the
commit reachable. An agent that exceeds its limit is served as ever: its commits take the
synchronous path.
"""
from typing import Optional


class Horizon:
    """Where the agent's job stands against its step limit (``max_calls`` None: no limit)."""

    def __init__(self, max_calls: Optional[int] = None):
        if max_calls is not None and max_calls < 1:
            raise ValueError("max_calls must be >= 1 (or None: no step limit)")
        self.max_calls = max_calls
        self.calls = 0                  # model calls made (``call``: before each is sent)
        self.per_call: Optional[int] = None   # the most boundaries seen between two calls
        self._since_call = 0            # boundaries since the last call

    def call(self) -> None:
        """The agent is about to call the model (``on_commit``)."""
        if self.calls:
            self.per_call = max(self.per_call or 0, self._since_call)
        self.calls += 1
        self._since_call = 0

    def boundary(self) -> None:
        """A segment boundary passed (``on_segment_boundary``)."""
        self._since_call += 1

    def segments_left(self) -> Optional[int]:
        """Segments the context may still grow by before the job's last model call (None:
        not known); -1 when no call is left, so no commit can come."""
        if self.max_calls is None or not self.calls:
            return None
        calls_left = self.max_calls - self.calls
        if calls_left <= 0:
            return -1
        if self.per_call is None:
            return None
        return max(0, self.per_call - self._since_call) + self.per_call * (calls_left - 1)

    def commit_reachable(self, tokens: int, hard_tokens: int,
                         growth: Optional[float]) -> bool:
        """Can the context reach the hard threshold by the job's last call (the module's
        rule; unknowns leave it reachable)?"""
        segments = self.segments_left()
        if segments is None:
            return True
        if segments < 0:
            return False
        if tokens >= hard_tokens:
            return True
        if not growth:
            return segments > 0
        return tokens + growth * segments >= hard_tokens
