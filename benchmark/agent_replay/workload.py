"""Synthetic agent workload shaped like SmoothAgent's MiniAgent, scaled to an 8k-token model.

MiniAgent: 400-word assistant turns, 150-word tool outputs, 2,200-word outputs at steps 9/18/27
(anchors-and-data.md). Scaled here by ``scale`` (default 0.25: 100-word turns, ~40-word tool
outputs, 550-word big outputs) so contexts reach the default model's budget on a CPU. Replays
are deterministic: the assistant turns come from the trace, not from the model, so every system
sees exactly the same contexts. Tool durations follow Continuum's published SWE-bench statistics
(mean 925 ms, sd 3,550 ms) as a log-normal, clipped to ``max_tool_s``.
"""
import math
import random
from dataclasses import dataclass

WORDS = ("the agent reads the file and checks the function that returns the value of the key in "
         "the tree then it writes a test for the cache and runs the build to see if the error is "
         "gone before it moves to the next step of the plan with the tool output in mind").split()


@dataclass(frozen=True)
class Step:
    assistant: str
    tool_output: str
    tool_s: float


@dataclass(frozen=True)
class AgentTrace:
    agent_id: str
    system: str
    task: str
    steps: tuple[Step, ...]
    source: str = ""                  # where a real trace came from (wheel file and record)
    cuts: tuple[str, ...] = ()        # what scaling to the model's context removed, in words
    step_limit: int | None = None     # the agent's step limit when its job ends there, known
                                      # to it ahead (MiniAgent's step count; a real rollout the
                                      # replay cuts short); None: it ends when its model answers


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _tool_seconds(rng: random.Random, max_tool_s: float) -> float:
    mean, sd = 0.925, 3.55            # Continuum, SWE-bench tool calls
    sigma2 = math.log(1 + (sd / mean) ** 2)
    mu = math.log(mean) - sigma2 / 2
    return min(max_tool_s, rng.lognormvariate(mu, math.sqrt(sigma2)))


def miniagent(agent_id: str, seed: int, steps: int = 20, scale: float = 0.25,
              max_tool_s: float = 3.0, phase: int = 0) -> AgentTrace:
    """A MiniAgent trace; big outputs at steps i with (i + phase) % 9 == 0 (phase 0: 9, 18, 27)."""
    rng = random.Random(seed)
    out = []
    for i in range(1, steps + 1):
        big = (i + phase) % 9 == 0
        out.append(Step(assistant=_text(rng, int(400 * scale)),
                        tool_output=_text(rng, int((2200 if big else 150) * scale)),
                        tool_s=_tool_seconds(rng, max_tool_s)))
    return AgentTrace(agent_id, "You are a coding agent. " + _text(rng, 60),
                      "Fix the failing test in the repository. " + _text(rng, 20), tuple(out),
                      step_limit=steps)
