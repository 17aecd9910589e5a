"""Capacity-aware start: a preparation starts only when it can finish in time nobody else needs.

The synchronous commit and a lookahead prefill the same tokens; lookahead only moves them into
the server's idle time. Where there is none (a saturated server), a preparation competes with
the foreground and then is re-done or wasted, so the runtime defers it and the commit takes the
synchronous path having spent nothing (outcome ``deferred``).

The rule, checked for each preparation by the server that would prefill it, in the prepare op
itself (a promoted preparation is not checked: the commit is near and the synchronous path
would prefill the same; one the commit already waits on is not sent at all: the commit request
prefills its transform)::

    window_s = boundaries until the hard threshold x seconds per boundary   (the agent's side:
                                                                              ``idle_window_s``)
    need_s   = (backlog + branch tokens the tree lacks) x prefill ms per token
    idle_s   = window_s x (1 - foreground share)                             (the server's side:
    idle_later_s = later_window_s x (1 - peak share)                          ``decide_start``)
    start  iff  need_s x START_MARGIN <= idle_s
           and not  need_s x LATER_MARGIN <= idle_later_s
           and end_risk <= max_end_risk                     (checked first: job_length.py)

The latest start that still fits: ``idle_later_s`` is the idle time left if the preparation
started at the agent's next boundary instead (``later_window_s``: one boundary later, after the
largest growth seen in the job; 0 when that growth may cross the hard threshold). In the job,
not recently: in the idle MiniAgent run of 4 Dec 20:16 (seed 1) agent-3 grew 148 tokens a
boundary with a 661-token output every ninth; four boundaries after one, the recent largest
was 148, it waited on a 20.8 s forecast for a 5.8 s preparation, the next output cut the window
to one boundary (4.1 s idle) and its commit went synchronous. While the preparation
would fit that later window ``LATER_MARGIN`` times over, it waits: a later start prepares from
a newer snapshot (less to catch up) and is exposed for less time to what wastes a preparation
(a trace that ends below the hard threshold, a source that changes). The margin is wider than
the start margin because waiting gives up slack that a late surprise (a big tool output, a
busier server) would need: in the idle nemo-gym run of 2 Dec 18:24 (bc3d259) an agent waited on a
forecast of 7.3 s idle from its next boundary for a 2.9 s preparation (margin 2.0), found
4.2 s there (0.58 of the forecast, below the 1.2 start margin) and never fitted again: its
commit went synchronous. The margin is the start margin over the worst forecast seen, with
slack: 1.2 / 0.58 = 2.1, taken as 3.

The later window is priced at the peak share: the busiest foreground share over any stretch as
long as that window in the last two minutes (``SchedulerStats.peak_foreground_share``), not the
recent mean. The agents' turns come in bursts, and waiting bets the commit on the later window
holding no burst: in the idle nemo-gym runs of 3 Dec (20bef95, 385f39e) agent-0 waited on a
forecast of 10.5-10.9 s from its next boundary for a 2.2-2.4 s preparation, at a recent share
of 0.43; at that boundary the other agents' turns had come (0.74) and 4.1 s were left. Priced
at 0.74 the forecast is 5.0 s, under 3 x 2.4 s: it starts at once. (A mean over the last
minutes, 0.31, would not have.)

The margin (1.2): both sides are estimates from the recent past, and a preparation that does
not finish in time costs more than none (the commit waits for it, promoted, in front of the
other agents' turns): in the full saturated nemo-gym run of 2 Dec 06:48 one started at 8.85 s
needed against 8.86 s idle and its commit waited 23.9 s for it.

Branch tokens the tree lacks: those past the prefix the branch shares with the session's
context. Catch-ups are not counted: the commit does not wait for them (its own request prefills
what they did not append, as the synchronous commit would), so only the branch must be ready.
Boundaries left: tokens to the hard threshold over the agent's observed growth per boundary
(at least one). Seconds per boundary: the agent's observed wall time between boundaries (its
tools and its own model calls). Prefill rate: the branch's own chunks priced at the context
positions they sit at, by the step cost the server fitted to its recent prefill steps (server/
scheduling/prefill_cost.py: a token at 5k of context costs about twice one at 1k on the 2-core
CPU, and a small chunk pays a step's fixed cost); before there is a fit, what branch prefills
(else all prefills) cost per token so far. Foreground share: model steps
that were not branch prefills, over as much recent wall time as the window ahead
(``lookback_s``, 5-30 s: a server that was idle half a minute ago and is saturated now has no
idle time to give). Backlog: what the other unfinished preparations on the server still ask
for; the idle time goes to them first (the background lane is first come, first served), so on
a server where several agents prepare at once each sees the others' work ahead of its own.
Whatever is unknown (a fresh server, the agent's first boundaries) lets the preparation start,
as the soft threshold alone would. A deferred preparation is tried again, with a fresh
snapshot, at the next boundary.
"""
import collections
import math
from typing import NamedTuple, Optional

from agentrt.lookahead.job_length import MAX_END_RISK, EndRisk


LOOKBACK_S = (5.0, 30.0)      # bounds of the past the foreground share is measured over
START_MARGIN = 1.2            # the idle time must exceed the prefill it needs by this factor
LATER_MARGIN = 3.0            # ... and a preparation waits while one boundary later leaves
                              # this factor


def lookback_s(window_s: float) -> float:
    """The recent time whose foreground share predicts a window ahead of ``window_s``."""
    return min(LOOKBACK_S[1], max(LOOKBACK_S[0], window_s))


class ServerLoad(NamedTuple):
    prefill_ms_per_token: float   # the branch's price per token (0: not measured yet)
    foreground_share: float       # model steps other than branch prefills over recent wall
                                  # time, 0..1
    backlog_tokens: int = 0       # unfinished branch prefills' tokens (other preparations)
    later_share: Optional[float] = None   # the busiest foreground share over any stretch as
                                          # long as the later window, in the recent minutes
                                          # (None: as ``foreground_share``)


class AgentPace(NamedTuple):
    tokens: int                   # the context now
    hard_tokens: int
    growth: Optional[float]       # tokens per boundary (None: not observed yet)
    boundary_s: Optional[float]   # wall seconds per boundary (None: not observed yet)


class IdleWindows(NamedTuple):
    """The idle time an agent expects before its commit, from now and from its next
    boundary (None: not known), and the context size the commit comes at (None: not known)."""
    now_s: float
    later_s: Optional[float] = None
    commit_tokens: Optional[int] = None


class StartDecision(NamedTuple):
    start: bool
    reason: str
    need_s: float = 0.0
    idle_s: float = 0.0
    later_idle_s: Optional[float] = None     # idle from the agent's next boundary (None: not
                                             # considered)
    window_s: Optional[float] = None         # the agent's window before the commit
    foreground_share: Optional[float] = None   # the server's, as the decision read it
    later_share: Optional[float] = None        # ... and for the later window
    end_risk: Optional[float] = None           # the chance the job ends before its commit
                                               # (job_length.py; None: not known)


class Pace:
    """An agent's observed pace: wall seconds between its boundaries (``tick``) and tokens its
    context grew per boundary (``count``: a shrink, i.e. a commit, is not growth), the last
    ``keep`` of each, and the growth of every boundary since the first (``long_run_growth``,
    ``largest_growth_seen``).
    The runtime ticks at every segment boundary; the server, at every request of a
    conversation."""

    def __init__(self, keep: int = 4):
        self.intervals: collections.deque = collections.deque(maxlen=keep)
        self.growth: collections.deque = collections.deque(maxlen=keep)
        self.tokens = 0
        self._grown_tokens = 0        # since the first boundary: tokens grown ...
        self._grown_boundaries = 0    # ... over the boundaries that grew
        self._largest_grown = 0       # ... and the largest of them
        self._at: Optional[float] = None

    def tick(self, now: float) -> None:
        if self._at is not None:
            self.intervals.append(now - self._at)
        self._at = now

    def count(self, tokens: int) -> None:
        if self.tokens and tokens > self.tokens:
            self.growth.append(tokens - self.tokens)
            self._grown_tokens += tokens - self.tokens
            self._grown_boundaries += 1
            self._largest_grown = max(self._largest_grown, tokens - self.tokens)
        self.tokens = tokens

    @property
    def largest_growth(self) -> Optional[int]:
        return max(self.growth) if self.growth else None

    @property
    def largest_growth_seen(self) -> Optional[int]:
        """The largest growth of any boundary since the first (None: none yet): what a bet on
        the next boundary must survive. An agent's big outputs come every few boundaries
        (MiniAgent's every ninth), so the last ``keep`` may hold none of them."""
        return self._largest_grown or None

    @property
    def mean_growth(self) -> Optional[float]:
        return sum(self.growth) / len(self.growth) if self.growth else None

    @property
    def long_run_growth(self) -> Optional[float]:
        """The mean growth of every boundary seen (None: none yet): what a sum over several
        boundaries ahead is priced with (horizon.py), where a few recent ones are noise."""
        return self._grown_tokens / self._grown_boundaries if self._grown_boundaries else None

    def window_s(self, hard_tokens: int) -> Optional[float]:
        """``idle_window_s`` from the means of what was observed (None: not observed yet)."""
        return idle_window_s(self._pace(self.tokens, hard_tokens))

    def windows(self, hard_tokens: int) -> Optional[IdleWindows]:
        """The idle window now and from the next boundary, after the largest growth seen in
        the job (``largest_growth_seen``; 0 when that growth reaches the hard threshold); None:
        not observed yet."""
        now = self.window_s(hard_tokens)
        if now is None:
            return None
        ahead = self.tokens + self.largest_growth_seen
        later = 0.0 if ahead >= hard_tokens else idle_window_s(self._pace(ahead, hard_tokens))
        return IdleWindows(now, later, hard_tokens)

    def _pace(self, tokens: int, hard_tokens: int) -> AgentPace:
        growth = self.mean_growth
        boundary_s = sum(self.intervals) / len(self.intervals) if self.intervals else None
        return AgentPace(tokens, hard_tokens, growth, boundary_s)


def idle_window_s(pace: AgentPace) -> Optional[float]:
    """Wall seconds the agent will spend before its context reaches the hard threshold (None:
    its pace is not observed yet, and the preparation starts unchecked)."""
    if not pace.growth or pace.growth <= 0 or not pace.boundary_s:
        return None
    left = max(0, pace.hard_tokens - pace.tokens)
    return max(1, math.ceil(left / pace.growth)) * pace.boundary_s


def decide_start(load: Optional[ServerLoad], branch_tokens: int,
                 window_s: Optional[float], later_window_s: Optional[float] = None,
                 end_risk: Optional[EndRisk] = None, max_end_risk: float = MAX_END_RISK
                 ) -> StartDecision:
    """Start a preparation whose branch needs ``branch_tokens`` prefilled, or defer it (see the
    module docstring; ``later_window_s`` None: no later start is considered). First, whatever
    the load: a job more likely than ``max_end_risk`` to end before its commit does not start
    (job_length.py; ``end_risk`` None: not known)."""
    if end_risk is not None and end_risk.risk > max_end_risk:
        return StartDecision(False, f"ends first: {end_risk.describe()}", window_s=window_s,
                             end_risk=end_risk.risk)
    decision = _decide_capacity(load, branch_tokens, window_s, later_window_s)
    return decision if end_risk is None else decision._replace(end_risk=end_risk.risk)


def _decide_capacity(load: Optional[ServerLoad], branch_tokens: int,
                     window_s: Optional[float], later_window_s: Optional[float]
                     ) -> StartDecision:
    if load is None or load.prefill_ms_per_token <= 0:
        return StartDecision(True, "server load unknown")
    if window_s is None:
        return StartDecision(True, "agent pace unknown")
    need_s = (load.backlog_tokens + branch_tokens) * load.prefill_ms_per_token / 1e3
    free = max(0.0, 1.0 - min(1.0, load.foreground_share))
    idle_s = window_s * free
    later_share = max(load.foreground_share, load.later_share or 0.0)
    idle_later_s = None if later_window_s is None else \
        later_window_s * max(0.0, 1.0 - min(1.0, later_share))
    seen = dict(need_s=need_s, idle_s=idle_s, later_idle_s=idle_later_s, window_s=window_s,
                foreground_share=load.foreground_share, later_share=later_share)
    if need_s * START_MARGIN > idle_s:
        return StartDecision(False, f"needs {need_s:.1f} s of prefill, {idle_s:.1f} s idle "
                                    "before the commit", **seen)
    if idle_later_s is not None and need_s * LATER_MARGIN <= idle_later_s:
        return StartDecision(False, f"fits later: needs {need_s:.1f} s of prefill, "
                                    f"{idle_later_s:.1f} s idle from the next boundary", **seen)
    return StartDecision(True, "fits in idle time", **seen)
