"""``StepCostMeter``: the step costs of the width policy, measured online by the server.

The prior costs (``policy.StepCost()``) were measured once, on a quiet machine; the cores a
server gets are shared and the verify path has work of its own, so a verify step may cost more
than the prior says and a draft that the prior finds worth verifying makes decoding slower. The
worker times every decode step (drafting included) and reports ``observe(batch, width, ms)``
(width 0: a plain step); ``cost()`` is the ``StepCost`` the policy uses for the next step.

Rules:
- two linear fits: plain steps ``ms = base + per_token * (B - 1)``; verify steps, the measured
  ms minus the current plain estimate for B, ``extra = verify_fixed + per_draft * (B * w)``;
- each fit is a least-squares line over its own samples, each sample's weight multiplied by
  ``decay`` when a newer one arrives (a verify estimate only ages with new verify steps), pulled
  toward the prior's line by a ridge of ``prior_weight`` on the intercept and ``prior_weight *
  SLOPE_SCALE`` on the slope (as many samples 8 tokens apart): a cost the samples do not tell
  apart (all verify steps at one width) is charged to the intercept, the fixed part, and the
  per-token slope moves only when steps of different widths differ;
- a sample is clipped to ``[predicted / clip, predicted * clip]`` first (one step stalled by
  another process must not turn speculation off for good), and fitted costs are floored:
  ``base_ms >= 1``, the other terms ``>= 0``;
- ``steps`` counts samples (plain, verify); ``summary()`` is one log line.
"""
from dataclasses import dataclass, field

from agentrt.speculative.policy import StepCost


SLOPE_SCALE = 64.0


@dataclass
class LineFit:
    """Decayed ridge least squares of ``y = a + b * x`` toward ``prior`` (a, b)."""
    prior: tuple[float, float]
    prior_weight: float
    decay: float
    slope_scale: float = SLOPE_SCALE
    n: float = 0.0
    sx: float = 0.0
    sxx: float = 0.0
    sy: float = 0.0
    sxy: float = 0.0

    def add(self, x: float, y: float) -> None:
        d = self.decay
        self.n, self.sx, self.sxx = d * self.n + 1, d * self.sx + x, d * self.sxx + x * x
        self.sy, self.sxy = d * self.sy + y, d * self.sxy + x * y

    def params(self) -> tuple[float, float]:
        lam, (a0, b0) = self.prior_weight, self.prior
        lam_b = lam * self.slope_scale
        m00, m01, m11 = self.n + lam, self.sx, self.sxx + lam_b
        r0, r1 = self.sy + lam * a0, self.sxy + lam_b * b0
        det = m00 * m11 - m01 * m01
        return (r0 * m11 - m01 * r1) / det, (m00 * r1 - m01 * r0) / det


@dataclass
class StepCostMeter:
    prior: StepCost = field(default_factory=StepCost)
    prior_weight: float = 2.0
    decay: float = 0.95
    clip: float = 2.0
    steps: list[int] = field(default_factory=lambda: [0, 0])

    def __post_init__(self):
        p = self.prior
        self._plain = LineFit((p.base_ms, p.per_token_ms), self.prior_weight, self.decay)
        self._verify = LineFit((p.verify_fixed_ms, p.per_draft_ms), self.prior_weight,
                               self.decay)
        self._cost = p

    def cost(self) -> StepCost:
        return self._cost

    def observe(self, batch: int, width: int, ms: float) -> None:
        """One decode step of ``batch`` requests verifying ``width`` drafts each took ``ms``."""
        predicted = self._cost.batch_ms(batch, width)
        ms = min(max(ms, predicted / self.clip), predicted * self.clip)
        if width <= 0:
            self._plain.add(batch - 1, ms)
        else:
            self._verify.add(batch * width, ms - self._cost.batch_ms(batch, 0))
        self.steps[width > 0] += 1
        base, per_token = self._plain.params()
        fixed, per_draft = self._verify.params()
        self._cost = StepCost(max(1.0, base), max(0.0, per_token), max(0.0, fixed),
                              max(0.0, per_draft))

    def summary(self) -> str:
        c = self._cost
        return (f"{self.steps[0]} plain / {self.steps[1]} verify steps measured: plain "
                f"{c.base_ms:.1f} ms + {c.per_token_ms:.1f} ms per request; verify +"
                f"{c.verify_fixed_ms:.1f} ms + {c.per_draft_ms:.2f} ms per draft token")
