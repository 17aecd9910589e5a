"""Tool-call-aware KV time-to-live policy (after Continuum, arXiv 2511.02230).

When an agent turn ends in a tool call, the session's KV cache would normally
become evictable at once; if the tool comes back quickly, the next turn must
re-prefill (reload) that KV. Continuum pins the KV for a time-to-live (TTL)
chosen from the observed durations of that tool:

    score(tau) = F(tau) * reload_cost_s - tau

where F is the empirical CDF of the tool's call durations. Pinning for tau
seconds saves ``reload_cost_s`` with probability F(tau) and costs tau seconds
of held memory. We pick the tau that maximises the score among {0} and the
observed durations (ties go to the smaller tau).

Fallbacks: a tool with fewer than ``min_samples`` observations uses the global
(all tools) sample set; if that is also cold, the fixed default rule is used
(Continuum's released code pins for 2 s).

Clipping: candidate taus are clipped to ``max_ttl_s``; F stays the CDF of the
raw durations, so a call longer than ``max_ttl_s`` counts as a miss. A clipped
candidate is therefore never strictly better than the largest sample below
the cap, and the effect is that a chosen TTL never exceeds ``max_ttl_s``.

Worked example (100 samples: 99 of 1.0 s, 1 of 10.0 s; reload_cost_s = 10):

    tau    F(tau)   F*R     score
    0.0    0.00     0.0     0.0
    1.0    0.99     9.9     8.9   <- chosen
    10.0   1.00    10.0     0.0

Standard library only.
"""
from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass
from typing import Deque, Dict, Iterable, List, NamedTuple, Optional, Tuple


@dataclass(frozen=True)
class TtlConfig:
    """Parameters of the TTL policy (immutable)."""

    default_ttl_s: float = 2.0
    min_samples: int = 100
    max_ttl_s: float = 60.0
    window: int = 1000

    def __post_init__(self) -> None:
        for name in ("default_ttl_s", "max_ttl_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value >= 0 and not math.isnan(value)):
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        if not isinstance(self.min_samples, int) or self.min_samples < 1:
            raise ValueError(f"min_samples must be an int >= 1, got {self.min_samples!r}")
        if not isinstance(self.window, int) or self.window < self.min_samples:
            raise ValueError(
                f"window must be an int >= min_samples ({self.min_samples}), got {self.window!r}"
            )


class TtlDecision(NamedTuple):
    """A chosen TTL, where its statistics came from, and its score."""

    ttl_s: float
    source: str  # "tool", "global" or "default"
    expected_benefit_s: float


def _best_tau(durations: Iterable[float], reload_cost_s: float, max_ttl_s: float) -> Tuple[float, float]:
    """Return (tau, score) maximising F(tau)*R - tau; pure, O(n log n).

    Sort once, then sweep groups of equal durations: after a group ending at
    index i, F(value) = (i + 1) / n. Strict ``>`` keeps the smaller tau on ties.
    """
    ordered = sorted(durations)
    n = len(ordered)
    zeros = bisect.bisect_right(ordered, 0.0)
    best_tau, best_score = 0.0, (zeros / n) * reload_cost_s
    for i, value in enumerate(ordered):
        if i + 1 < n and ordered[i + 1] == value:
            continue  # only the last of equal values has the full F(value)
        tau = min(value, max_ttl_s)
        frac = bisect.bisect_right(ordered, tau) / n if tau < value else (i + 1) / n
        score = frac * reload_cost_s - tau
        if score > best_score:
            best_tau, best_score = tau, score
    return best_tau, best_score


class ToolDurationStats:
    """Bounded per-tool and global windows of observed tool-call durations."""

    def __init__(self, config: TtlConfig) -> None:
        self.config = config
        self._per_tool: Dict[str, Deque[float]] = {}
        self._global: Deque[float] = deque(maxlen=config.window)

    def observe(self, tool: str, duration_s: float) -> None:
        """Record one call duration. Mutates the tool's window and the global
        window (each keeps the most recent ``config.window`` samples).
        Raises ValueError for negative or NaN durations."""
        if duration_s is None or math.isnan(duration_s) or duration_s < 0:
            raise ValueError(f"duration_s must be a non-negative number, got {duration_s!r}")
        window = self._per_tool.get(tool)
        if window is None:
            window = self._per_tool[tool] = deque(maxlen=self.config.window)
        window.append(float(duration_s))
        self._global.append(float(duration_s))

    def samples(self, tool: str) -> int:
        """Number of samples currently kept for ``tool`` (no mutation)."""
        return len(self._per_tool.get(tool, ()))

    def _sample_set(self, tool: str) -> Tuple[Optional[List[float]], str]:
        """Pick the sample set for ``tool``: its own if warm, else global if
        warm, else (None, "default"). No mutation."""
        own = self._per_tool.get(tool)
        if own is not None and len(own) >= self.config.min_samples:
            return list(own), "tool"
        if len(self._global) >= self.config.min_samples:
            return list(self._global), "global"
        return None, "default"

    def cdf(self, tool: str, t: float) -> Optional[float]:
        """Empirical P(duration <= t) from the chosen sample set, or None if
        both the tool and the global set are cold. No mutation."""
        data, _ = self._sample_set(tool)
        if data is None:
            return None
        data.sort()
        return bisect.bisect_right(data, t) / len(data)

    def choose_ttl(self, tool: str, reload_cost_s: float) -> TtlDecision:
        """Choose the pin TTL for a session that just called ``tool``.
        ``reload_cost_s`` is the time to rebuild the KV if it is evicted.
        No mutation; raises ValueError if reload_cost_s < 0 (or NaN)."""
        if reload_cost_s is None or math.isnan(reload_cost_s) or reload_cost_s < 0:
            raise ValueError(f"reload_cost_s must be non-negative, got {reload_cost_s!r}")
        data, source = self._sample_set(tool)
        if data is None:
            return TtlDecision(min(self.config.default_ttl_s, self.config.max_ttl_s), "default", 0.0)
        tau, score = _best_tau(data, reload_cost_s, self.config.max_ttl_s)
        return TtlDecision(tau, source, score)
