"""Verify-width policy: how many draft tokens one decode step verifies (0 = plain decoding).

Cost model (``StepCost``; measured on the project's 2-core CPU, default model, batch 1): a step
verifying w draft tokens costs ``base_ms + per_token_ms * w`` (40 ms + 4 ms per extra token:
verifying 8 costs 1.8x a plain step). A step always yields one token from the model itself plus
the accepted draft tokens.

Acceptance estimate (``acceptance``): node i of a draft is accepted with probability
``draft.probs[i] * H(m, d_i)``: the source's frequency estimate times a match-length prior
``H(m, d) = prod_{j=1..d} h(m + j - 1)``, ``h(x) = x / (x + match_half)``. A node at depth d
was drafted from a context matched over m tokens plus the d - 1 draft tokens above it, and a
longer matched context is more likely to continue the same way.

Width rule (``choose_width``, a pure function): with ``E_w`` the sum of the first w acceptance
estimates (the expected accepted tokens when verifying the draft's first w nodes), the
predicted speed-up of width w is ``(1 + E_w) * base_ms / (base_ms + per_token_ms * w)``.
Take the w in 1..max_width with the highest predicted speed-up, the smallest w on ties; verify
nothing (width 0, plain decoding) unless that speed-up exceeds ``min_speedup`` (1.0: the
expected accepted tokens must exceed the extra cost ``per_token_ms * w / base_ms`` in steps).
``decide`` also returns width 0 when the draft's match is shorter than ``min_match``.
"""
from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

from agentrt.speculative.draft import Draft


@dataclass(frozen=True)
class StepCost:
    base_ms: float = 40.0
    per_token_ms: float = 4.0

    def verify_ms(self, width: int) -> float:
        return self.base_ms + self.per_token_ms * width


@dataclass(frozen=True)
class WidthPolicy:
    cost: StepCost = field(default_factory=StepCost)
    max_width: int = 8
    min_match: int = 2
    match_half: float = 4.0
    min_speedup: float = 1.0


class Width(NamedTuple):
    width: int
    expected_accepted: float
    predicted_speedup: float


PLAIN = Width(0, 0.0, 1.0)


def match_prior(match_len: int, depth: int, match_half: float) -> float:
    """``H(m, d)``: the prior that a depth-d node drafted after an m-token match is accepted."""
    prior = 1.0
    for j in range(depth):
        x = match_len + j
        prior *= x / (x + match_half)
    return prior


def acceptance(draft: Draft, match_half: float) -> tuple[float, ...]:
    """Estimated acceptance probability of each node (see the module rule)."""
    return tuple(p * match_prior(draft.match_len, d, match_half)
                 for p, d in zip(draft.probs, draft.depths()))


def choose_width(accept: Sequence[float], policy: WidthPolicy) -> Width:
    """Best width for acceptance estimates listed in draft order (see the module rule)."""
    base = policy.cost.base_ms
    best, expected = PLAIN, 0.0
    for w, p in enumerate(accept[:policy.max_width], start=1):
        expected += p
        speedup = (1.0 + expected) * base / policy.cost.verify_ms(w)
        if speedup > best.predicted_speedup and speedup > policy.min_speedup:
            best = Width(w, expected, speedup)
    return best


def decide(draft: Draft, policy: WidthPolicy) -> Width:
    """Width for ``draft``: 0 when its match is shorter than ``min_match``, else the rule."""
    if len(draft) == 0 or draft.match_len < policy.min_match:
        return PLAIN
    return choose_width(acceptance(draft, policy.match_half), policy)
