"""Counters of the lookahead scheduler, kept in the scheduler process (read by control ops)."""
import collections
import math
import time
from collections import Counter

from agentrt.server.scheduling.prefill_cost import PrefillCostModel
from agentrt.server.scheduling.stalls import LongestStalls


BUSY_WINDOW_S = 30.0        # the recent wall time ``busy_share`` is measured over
PEAK_HISTORY_S = 120        # the past ``peak_foreground_share`` searches, in one-second buckets
PER_TOKEN_MIN_TOKENS = 64   # smaller prefill steps are mostly fixed per-step cost: they would
                            # inflate the per-token estimate and shrink the time-bounded chunks


class SchedulerStats:
    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.bg_admitted = 0
        self.bg_tokens = 0               # admitted as background chunks
        self.lookahead_tokens = 0        # prefilled for branches, promoted work included
        self.bg_chunks = 0
        self.bg_denied = 0
        self.denied_reasons: Counter = Counter()
        self.promoted = 0
        self.reorders = 0          # waiting queues whose order the lookahead policy changed
        self.steps = 0
        self.last_step_ms = 0.0
        self.decode_step_ms = 0.0        # last decode step
        self.prefill_ms_per_token = 0.0  # moving average over prefill steps
        self.branch_ms_per_token = 0.0   # the same over branch prefills as they run (small
                                         # background chunks cost more per token)
        self.prefill_cost = PrefillCostModel()   # step time by size and context position
        self.bg_throttled = 0            # minimum-size chunks while yielding to foreground
        self.bg_preempted = 0            # background prefills aborted to free KV for foreground
        self.fg_kv_blocked = 0           # foreground admissions that found no KV room
        self.bg_paused = 0               # steps that decoded while a background chunk waited
        self.prefills_deferred = 0       # prefill steps put after a decode step (decode_first)
        self.last_step_prefill_only = False   # the last step prefilled and decoded nothing
        self.busy_ms = 0.0               # model steps, all classes: wall time minus this is idle
        self.lookahead_busy_ms = 0.0     # the branch-prefill share of prefill steps (by tokens)
        self.started_at = time.monotonic()
        self._recent = collections.deque()   # (step end, step ms, branch-prefill ms) within
        self._recent_ms = 0.0                # BUSY_WINDOW_S, and their sums
        self._recent_lookahead_ms = 0.0
        self._foreground_by_second: dict[int, float] = {}   # foreground ms in each second of
                                                            # the last PEAK_HISTORY_S
        self.stalls = LongestStalls()    # prefill steps that held decoding requests

    def admitted(self, tokens: int) -> None:
        """Background prefill tokens scheduled (one chunk)."""
        if tokens > 0:
            self.bg_tokens += tokens
            self.bg_chunks += 1

    def denied(self, reason: str) -> None:
        self.bg_denied += 1
        self.denied_reasons[reason.split(" ")[0] if reason[0].isdigit() else reason] += 1

    def step_finished(self, step_ms: float, prefill_tokens: int = 0,
                      lookahead_tokens: int = 0,
                      parts: tuple[tuple[int, int], ...] = (), decoding: int = 0,
                      decoded: int = 0) -> None:
        """One model step; ``prefill_tokens`` > 0 for a prefill (extend) step, 0 for decode;
        ``lookahead_tokens`` of them prefilled prepared branches; ``parts``: (context before,
        new tokens) of each request it prefilled; ``decoding``: requests whose decoding waited
        for this prefill step; ``decoded``: running requests a mixed step decoded beside its
        prefill (their next token waited for the step too, but came with it)."""
        self.prefill_cost.observe(list(parts), step_ms)
        self.stalls.observe(step_ms, prefill_tokens, lookahead_tokens, decoding + decoded)
        self.last_step_ms = step_ms
        self.last_step_prefill_only = prefill_tokens > 0 and not decoded
        self.steps += 1
        self.busy_ms += step_ms
        lookahead_ms = step_ms * min(1.0, lookahead_tokens / prefill_tokens) \
            if prefill_tokens and lookahead_tokens else 0.0
        now = time.monotonic()
        self._recent.append((now, step_ms, lookahead_ms))
        self._recent_ms += step_ms
        self._recent_lookahead_ms += lookahead_ms
        self._trim(now)
        self._count_foreground(now, step_ms, step_ms - lookahead_ms)
        if lookahead_ms:
            self.lookahead_tokens += lookahead_tokens
            self.lookahead_busy_ms += lookahead_ms
            self.branch_ms_per_token = _averaged(self.branch_ms_per_token,
                                                 lookahead_ms / lookahead_tokens)
        if prefill_tokens >= PER_TOKEN_MIN_TOKENS:
            self.prefill_ms_per_token = _averaged(self.prefill_ms_per_token,
                                                  step_ms / prefill_tokens)
        elif not prefill_tokens:
            self.decode_step_ms = step_ms
            self.prefill_cost.observe_decode(step_ms)

    def _trim(self, now: float) -> None:
        while self._recent and self._recent[0][0] < now - BUSY_WINDOW_S:
            _, step_ms, lookahead_ms = self._recent.popleft()
            self._recent_ms -= step_ms
            self._recent_lookahead_ms -= lookahead_ms

    def _count_foreground(self, end: float, step_ms: float, foreground_ms: float) -> None:
        """Spread a step's foreground time over the seconds it ran in; forget older seconds."""
        start = end - step_ms / 1e3
        by_second = self._foreground_by_second
        for second in range(math.floor(start), math.floor(end) + 1):
            ran_ms = (min(end, second + 1) - max(start, second)) * 1e3
            if ran_ms > 0:
                by_second[second] = by_second.get(second, 0.0) + foreground_ms * ran_ms / step_ms
        oldest = math.floor(end) - PEAK_HISTORY_S
        for second in [s for s in by_second if s <= oldest]:
            del by_second[second]

    def peak_foreground_share(self, window_s: float, now: float | None = None) -> float:
        """The largest foreground share over any ``window_s`` of the last PEAK_HISTORY_S (of
        what has run, right after start): the load a window ahead must expect when the agents'
        turns come in bursts."""
        now = time.monotonic() if now is None else now
        last = math.floor(now)
        seconds = min(PEAK_HISTORY_S, max(1, math.ceil(now - self.started_at)))
        width = max(1, min(seconds, round(window_s)))
        ms = [self._foreground_by_second.get(s, 0.0) for s in range(last - seconds + 1, last + 1)]
        running = best = sum(ms[:width])
        for i in range(width, len(ms)):
            running += ms[i] - ms[i - width]
            best = max(best, running)
        return min(1.0, max(0.0, best) / 1e3 / width)

    def busy_share(self, now: float | None = None) -> float:
        """Model steps over the last BUSY_WINDOW_S of wall time (less, right after start)."""
        now = self._trimmed(now)
        return self._share(self._recent_ms, now)

    def foreground_busy_share(self, now: float | None = None,
                              lookback_s: float = BUSY_WINDOW_S) -> float:
        """As ``busy_share``, without the branch prefills: the share of the server the agents'
        own turns need (what a preparation cannot have), over the last ``lookback_s`` (at most
        BUSY_WINDOW_S)."""
        now = self._trimmed(now)
        if lookback_s >= BUSY_WINDOW_S:
            return self._share(self._recent_ms - self._recent_lookahead_ms, now)
        since = now - lookback_s
        ms = sum(step - branch for end, step, branch in self._recent if end >= since)
        return self._share(ms, now, lookback_s)

    def _trimmed(self, now: float | None) -> float:
        """``now`` (default: the clock), the recent steps trimmed to its window."""
        now = time.monotonic() if now is None else now
        self._trim(now)
        return now

    def _share(self, ms: float, now: float, window_s: float = BUSY_WINDOW_S) -> float:
        window = min(window_s, max(1e-3, now - self.started_at))
        return min(1.0, max(0.0, ms) / 1e3 / window)

    def to_json(self) -> dict:
        return {"bg_admitted": self.bg_admitted, "bg_tokens_prefilled": self.bg_tokens,
                "lookahead_tokens_prefilled": self.lookahead_tokens,
                "bg_chunks": self.bg_chunks,
                "bg_denied": self.bg_denied, "bg_denied_reasons": dict(self.denied_reasons),
                "promoted_commits": self.promoted, "reorders": self.reorders,
                "bg_throttled": self.bg_throttled, "bg_preempted": self.bg_preempted,
                "fg_kv_blocked": self.fg_kv_blocked, "bg_paused": self.bg_paused,
                "prefills_deferred": self.prefills_deferred,
                "steps": self.steps, "busy_s": round(self.busy_ms / 1e3, 3),
                "lookahead_busy_s": round(self.lookahead_busy_ms / 1e3, 3),
                "last_step_ms": round(self.last_step_ms, 2),
                "decode_step_ms": round(self.decode_step_ms, 2),
                "prefill_ms_per_token": round(self.prefill_ms_per_token, 4),
                "branch_ms_per_token": round(self.branch_ms_per_token, 4),
                "prefill_cost": self.prefill_cost.to_json(),
                "busy_share": round(self.busy_share(), 4),
                "foreground_busy_share": round(self.foreground_busy_share(), 4),
                "stalls": self.stalls.count,
                "stalled_s": round(self.stalls.total_ms / 1e3, 3),
                "longest_stalls": self.stalls.to_json()}


def _averaged(average: float, sample: float) -> float:
    """A moving average (the first sample starts it)."""
    return sample if not average else 0.8 * average + 0.2 * sample


STATS = SchedulerStats()
