"""What a prefill costs on this server, by where its tokens sit: fitted from its own steps.

Rule: a prefill step's time is modelled as::

    step_ms = fixed + sum over its requests of  tokens x (per_token + per_position x mid)

``mid``: the context position in the middle of the request's new tokens (attention reads what is
before each token). ``fixed`` is what a step costs whatever its size (a small chunk pays it for
few tokens), ``per_position`` what attention over a longer context adds. One rate per token
cannot price a branch: an agent's turns prefill small pieces late in a long context, a branch
prefills chunks from near position 0 (benchmark/README.md, History, has the measurements).

The three coefficients are fitted by least squares, none negative, over the server's last
``KEEP`` prefill steps (foreground and background alike: the physics is the same), and refitted
when asked after new steps. ``fixed`` is at most what the cheapest recent decode step cost (a
step of one token per request pays it too): prefills of one size (an agent's turns, before any
branch ran) cannot tell a fixed cost from a per-token one. Until ``MIN_STEPS`` steps of at least
two sizes and two positions were seen, there is no fit (``price_ms`` answers None) and callers
use a plain rate.
"""
import collections
import itertools
import math
from typing import NamedTuple, Optional

import numpy as np


KEEP = 256        # prefill steps the fit is made over (the recent past: the machine drifts)
MIN_STEPS = 8     # a fit needs this many steps, of at least two sizes and two positions


class PrefillCost(NamedTuple):
    fixed_ms: float
    per_token_ms: float
    per_position_ms: float     # per token and per context position before it

    def step_ms(self, parts: list[tuple[int, int]]) -> float:
        """A step prefilling ``parts``: (context before, new tokens) per request."""
        return sum(c * f for c, f in zip(self, _features(parts)))


def _features(parts: list[tuple[int, int]]) -> tuple[float, float, float]:
    """What each coefficient multiplies: 1, the new tokens, tokens x their mid position."""
    return (1.0, float(sum(n for _, n in parts)),
            float(sum(n * (p + n / 2) for p, n in parts)))


def _capped_fit(x: np.ndarray, y: np.ndarray, fixed_cap: Optional[float]) -> Optional[np.ndarray]:
    """The non-negative fit, its fixed term (column 0) at most ``fixed_cap``: over the cap, the
    fixed term is the cap and the other terms are fitted to what is left."""
    coef = _nonnegative_fit(x, y)
    if coef is None or fixed_cap is None or coef[0] <= fixed_cap:
        return coef
    rest = _nonnegative_fit(x[:, 1:], y - fixed_cap)
    return None if rest is None else np.concatenate(([fixed_cap], rest))


def _nonnegative_fit(x: np.ndarray, y: np.ndarray) -> Optional[np.ndarray]:
    """Least squares with every coefficient >= 0: the best of the fits over each subset of the
    columns whose coefficients all came out non-negative (three columns: seven subsets)."""
    best, best_residual = None, float("inf")
    columns = range(x.shape[1])
    for size in range(1, x.shape[1] + 1):
        for subset in itertools.combinations(columns, size):
            coef, *_ = np.linalg.lstsq(x[:, subset], y, rcond=None)
            if (coef < 0).any():
                continue
            residual = float(np.sum((x[:, subset] @ coef - y) ** 2))
            if residual < best_residual:
                best = np.zeros(x.shape[1])
                best[list(subset)] = coef
                best_residual = residual
    return best


class PrefillCostModel:
    def __init__(self, keep: int = KEEP):
        self._steps: collections.deque = collections.deque(maxlen=keep)
        self._decode_ms: collections.deque = collections.deque(maxlen=keep)
        self._fit: Optional[PrefillCost] = None
        self._stale = False

    def observe(self, parts: list[tuple[int, int]], step_ms: float) -> None:
        """One prefill step: (context before, new tokens) of each request, and its time."""
        parts = [(int(p), int(n)) for p, n in parts if n > 0]
        if parts and step_ms > 0:
            self._steps.append((_features(parts), step_ms))
            self._stale = True

    def observe_decode(self, step_ms: float) -> None:
        """One decode step's time (its minimum over the recent ones caps the fixed cost)."""
        if step_ms > 0:
            self._decode_ms.append(step_ms)
            self._stale = True

    def fitted(self) -> Optional[PrefillCost]:
        """The current fit (None: too few or too alike steps so far)."""
        if self._stale:
            self._stale = False
            self._fit = self._refit()
        return self._fit

    def _refit(self) -> Optional[PrefillCost]:
        if len(self._steps) < MIN_STEPS:
            return None
        x = np.array([f for f, _ in self._steps])
        y = np.array([ms for _, ms in self._steps])
        if len(np.unique(x[:, 1])) < 2 or len(np.unique(x[:, 2] / x[:, 1])) < 2:
            return None
        coef = _capped_fit(x, y, min(self._decode_ms) if self._decode_ms else None)
        if coef is None or coef[1] + coef[2] <= 0:
            return None
        return PrefillCost(*(float(c) for c in coef))

    def price_ms(self, start: int, tokens: int, chunk_tokens: int) -> Optional[float]:
        """Prefilling ``tokens`` from context position ``start`` in chunks of ``chunk_tokens``,
        one chunk a step (None: no fit yet)."""
        fit = self.fitted()
        if fit is None:
            return None
        return sum(fit.step_ms([(p, min(chunk_tokens, start + tokens - p))])
                   for p in range(start, start + tokens, max(1, chunk_tokens)))

    def ms_per_token_at(self, start: int, tokens: int) -> Optional[float]:
        """What each of ``tokens`` prefilled from context position ``start`` in one step adds
        to the step, the step's fixed cost left out (None: no fit)."""
        fit = self.fitted()
        if fit is None or tokens <= 0:
            return None
        return (fit.step_ms([(start, tokens)]) - fit.fixed_ms) / tokens

    def tokens_within(self, start: int, ms: float) -> Optional[int]:
        """The most tokens one step prefills from context position ``start`` in ``ms``, the
        step's fixed cost included (0: the fixed cost alone exceeds it; None: no fit)."""
        fit = self.fitted()
        if fit is None:
            return None
        room = ms - fit.fixed_ms
        if room <= 0:
            return 0
        # room = n x (per_token + per_position x start) + n^2 x per_position / 2
        linear = fit.per_token_ms + fit.per_position_ms * start
        half = fit.per_position_ms / 2
        if half <= 0:
            return int(room / linear)
        return int((math.sqrt(linear * linear + 4 * half * room) - linear) / (2 * half))

    def to_json(self) -> Optional[dict]:
        fit = self.fitted()
        return None if fit is None else {"steps": len(self._steps),
                                         **{k: round(v, 6) for k, v in fit._asdict().items()}}
