"""Tool-call durations from Continuum's published statistics (arXiv 2511.02230).

The traces carry no timings, so each tool call sleeps for a draw from a log-normal with the
workload's published mean and standard deviation, clipped to ``max_s`` (seeded, reproducible).
"""
import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class ToolTime:
    mean_s: float
    sd_s: float


SWE_BENCH = ToolTime(0.925, 3.55)     # 925 +- 3,550 ms
BFCL = ToolTime(1.923, 2.133)         # 1,923 +- 2,133 ms


def lognormal_seconds(rng: random.Random, dist: ToolTime, max_s: float) -> float:
    sigma2 = math.log(1 + (dist.sd_s / dist.mean_s) ** 2)
    mu = math.log(dist.mean_s) - sigma2 / 2
    return min(max_s, rng.lognormvariate(mu, math.sqrt(sigma2)))


def draw(seed: int, n: int, dist: ToolTime, max_s: float) -> list[float]:
    rng = random.Random(seed)
    return [lognormal_seconds(rng, dist, max_s) for _ in range(n)]
