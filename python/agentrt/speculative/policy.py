"""Verify-width policy: how many draft tokens one decode step verifies (0 = plain decoding).

Cost model (``StepCost``): a plain decode step of B requests costs ``base_ms + per_token_ms *
(B - 1)``; verifying w draft tokens per request adds ``verify_fixed_ms + per_draft_ms * B * w``
(the verify path's own work, then each draft token in the forward). The defaults are the prior
measured on the project's 2-core CPU, default model, batch 1 (40 ms + 4 ms per token, no fixed
part: verifying 8 costs 1.8x a plain step); a server replaces them with the costs it measures
(``step_costs.StepCostMeter``), passed as ``cost`` to the rules below. A step always yields one
token from the model itself plus the accepted draft tokens.

Measured-cost rule (``cost_ratio``): the rules below compare a step's cost to a plain step's
of the same batch; with measured costs that ratio is the larger of the prior's and the measured
one. Measurements can only make verifying dearer, never cheaper than the prior says: a plain
step measured slow (long contexts, other load) before any verify step was timed would
otherwise make verifying look cheap, and a wide verify at batch 4 over 2k-token contexts was
measured at ~1 s, 5x a plain step (benchmark/README.md, decode).

Acceptance estimate (``acceptance``): node i of a draft, at depth d below an m-token match,
is accepted with probability ``p_parent * min(1, cond_i * rate(m + d - 1))``: ``cond_i`` the
source's continuation frequency given its parent, ``rate`` a calibration by matched length
(``calibration.AcceptanceTracker.rate``, learned per request; without one, the prior
``h(m) = m / (m + match_half)``: a longer matched context is more likely to continue the same).

Width rule (``choose_width``, a pure function): with ``E_w`` the sum of the first w acceptance
estimates (the expected accepted tokens when verifying the draft's first w nodes), the
predicted speed-up of width w is ``(1 + E_w) * verify_ms(0) / verify_ms(w)``.
Take the w in 1..max_width with the highest predicted speed-up, the smallest w on ties; verify
nothing (width 0, plain decoding) unless that speed-up exceeds ``min_speedup`` (at 1.0: the
expected accepted tokens must exceed the extra cost ``per_token_ms * w / base_ms`` in steps;
the default 1.05 asks for a 5% predicted gain, a margin for estimates near break-even).
``decide`` also returns width 0 when the draft's match is shorter than ``min_match``.

Batch rule (``choose_batch_width``): SGLang verifies the same ``1 + w`` slots for every request
of a batch of B, so each request pays for w draft slots whether its draft fills them or not. A
step's cost grows with the tokens in its forward: ``StepCost.batch_ms(B, w)`` (the cost model
above; with the defaults ``base_ms + per_token_ms * (B * (1 + w) - 1)``; B = 1 is
``verify_ms(w)``). With ``E_i,w`` request i's expected accepted tokens among its first
w nodes, the predicted speed-up of w is ``sum_i (1 + E_i,w) / B * batch_ms(B, 0) /
batch_ms(B, w)``; take the best w in 1..max_width (smallest on ties), 0 unless it exceeds
``min_speedup``. At B = 1 this is the width rule. Per-request widths chosen alone would be
wrong at B > 1: the widest request sets every request's slots, and each slot costs B tokens.
"""
from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Sequence

from agentrt.speculative.calibration import DEFAULT_MATCH_HALF, conditionals, prior
from agentrt.speculative.draft import Draft


@dataclass(frozen=True)
class StepCost:
    base_ms: float = 40.0
    per_token_ms: float = 4.0        # each request beyond the first in a plain step
    verify_fixed_ms: float = 0.0     # a verify step's own work, whatever its width
    per_draft_ms: float = 4.0        # each verified draft token (B * w of them)

    def verify_ms(self, width: int) -> float:
        return self.batch_ms(1, width)

    def batch_ms(self, batch: int, width: int) -> float:
        """A step of ``batch`` requests verifying ``width`` drafts each (the cost model)."""
        plain = self.base_ms + self.per_token_ms * (batch - 1)
        if width <= 0:
            return plain
        return plain + self.verify_fixed_ms + self.per_draft_ms * batch * width


@dataclass(frozen=True)
class WidthPolicy:
    cost: StepCost = field(default_factory=StepCost)
    max_width: int = 8
    min_match: int = 1
    match_half: float = DEFAULT_MATCH_HALF
    min_speedup: float = 1.05


class Width(NamedTuple):
    width: int
    expected_accepted: float
    predicted_speedup: float


PLAIN = Width(0, 0.0, 1.0)


def acceptance(draft: Draft, rate: Callable[[int], float]) -> tuple[float, ...]:
    """Estimated acceptance probability of each node (see the module rule)."""
    out: list[float] = []
    for cond, parent, depth in zip(conditionals(draft), draft.parents, draft.depths()):
        above = 1.0 if parent < 0 else out[parent]
        out.append(above * min(1.0, cond * rate(draft.match_len + depth - 1)))
    return tuple(out)


def cost_ratio(policy: WidthPolicy, cost: StepCost | None, batch: int, width: int) -> float:
    """A step's cost over a plain step's (the measured-cost rule): the prior's ratio, or the
    measured one when ``cost`` is given and it is larger."""
    prior = policy.cost.batch_ms(batch, width) / policy.cost.batch_ms(batch, 0)
    if cost is None:
        return prior
    return max(prior, cost.batch_ms(batch, width) / cost.batch_ms(batch, 0))


def choose_width(accept: Sequence[float], policy: WidthPolicy,
                 cost: StepCost | None = None) -> Width:
    """Best width for acceptance estimates listed in draft order (see the module rule);
    ``cost``: measured step costs (the measured-cost rule)."""
    best, expected = PLAIN, 0.0
    for w, p in enumerate(accept[:policy.max_width], start=1):
        expected += p
        speedup = (1.0 + expected) / cost_ratio(policy, cost, 1, w)
        if speedup > best.predicted_speedup and speedup > policy.min_speedup:
            best = Width(w, expected, speedup)
    return best


def choose_batch_width(accepts: Sequence[Sequence[float]], policy: WidthPolicy,
                       cost: StepCost | None = None) -> Width:
    """Common width for a batch (the batch rule); ``expected_accepted`` sums over requests.

    ``accepts[i]``: request i's acceptance estimates in draft order (empty: no draft);
    ``cost``: measured step costs (the measured-cost rule).
    """
    batch = len(accepts)
    if batch == 0:
        return PLAIN
    longest = min(policy.max_width, max(len(a) for a in accepts))
    best, expected = PLAIN, 0.0
    for w in range(1, longest + 1):
        expected += sum(a[w - 1] for a in accepts if len(a) >= w)
        speedup = (batch + expected) / batch / cost_ratio(policy, cost, batch, w)
        if speedup > best.predicted_speedup and speedup > policy.min_speedup:
            best = Width(w, expected, speedup)
    return best


def estimates(draft: Draft, policy: WidthPolicy,
              rate: Callable[[int], float] | None = None) -> tuple[float, ...]:
    """Acceptance estimates ``decide`` would use; () when the match is below ``min_match``."""
    if len(draft) == 0 or draft.match_len < policy.min_match:
        return ()
    if rate is None:
        half = policy.match_half
        rate = lambda m: prior(m, half)  # noqa: E731
    return acceptance(draft, rate)


def decide(draft: Draft, policy: WidthPolicy,
           rate: Callable[[int], float] | None = None) -> Width:
    """Width for ``draft``: 0 when its match is shorter than ``min_match``, else the rule.

    ``rate``: the calibration by matched length (default: the prior with ``match_half``).
    """
    accept = estimates(draft, policy, rate)
    return choose_width(accept, policy) if accept else PLAIN
