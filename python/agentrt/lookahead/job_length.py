"""Job length: how likely a job ends before its next commit, from the jobs that ended before it.

A preparation prefills what the synchronous commit would (capacity.py): it saves those tokens
of the commit turn when the commit comes, and wastes them all when the job ends first. Agents
that know their end tell the runtime (a step limit, horizon.py); most do not: a rollout stops
when the model answers, a user leaves a chat. For those the server has what no single agent
has, the lengths of the jobs it has served:

    a job's length  = its opening context + what each of its turns added (a commit's shrink is
                      not growth): the context it would have reached with no transform
    reached         = the running job's length so far
    needed          = reached + (commit_tokens - the context now): its length at the commit
    end_risk        = jobs that reached ``reached`` and ended below ``needed``
                      / jobs that reached ``reached``

The rule (``decide_start``): a preparation starts only while ``end_risk <= max_end_risk``. The
default, 0.5, is the break-even of the tokens (it saves its tokens with chance 1 - end_risk and
wastes them with end_risk): a preparation it starts is not more likely to waste its tokens
than to save them. A lower
bound trades ready commits for less waste: a deferred preparation is asked again at the next
boundary, when the job is longer and its risk lower (the jobs that ended below it no longer
count), or the commit goes synchronous having spent nothing. In the nemo-gym rollouts (179
real ones, scaled as the benchmark scales them, each at its last model call) 29 % of the jobs
that reach 3,600 tokens end below 4,800, 20-21 % of those that reach 4,200, 10-12 % of those
that reach 4,400; after a commit at 4,800, none grows far enough for a second one (in the
runs: 100 % of the jobs that reached 5,964-6,281 tokens ended below the 7,196-7,513 needed):
a second preparation after a commit is waste. How low a bound would keep waste
under 5 % on such jobs, and what it costs in ready commits: benchmark/README.md, 4 Dec 22:02.

Unknowns leave the preparation to the capacity check alone, as before this rule: fewer than
``MIN_JOBS`` ended jobs reached the running job's length, or the caller sent no commit size.

Where lengths come from: every session closed on this server (``DELETE /agentrt/sessions/ID``)
adds its job, the newest ``KEEP`` kept; ``--agentrt-job-history PATH`` keeps them across
restarts (read at start, one JSON line ``{"job_tokens": N}`` appended per closed job), so a
server that served a workload before knows its jobs from the first one. A session the server
dropped without a close (a restart, a flush) teaches nothing.
"""
import bisect
import collections
import json
import logging
import os
from typing import NamedTuple, Optional

logger = logging.getLogger("agentrt.lookahead")
MIN_JOBS = 8          # ended jobs at least as long as the running one, before a risk is trusted
KEEP = 1024           # the newest ended jobs kept (a workload that changes is learned anew)
MAX_END_RISK = 0.5    # the default bound: the break-even of saved against wasted tokens


class EndRisk(NamedTuple):
    """The chance the job ends before its commit, and what it was read from."""
    risk: float
    reached: int          # the job's length so far
    needed: int           # its length at the commit
    jobs: int             # ended jobs at least ``reached`` long

    def describe(self) -> str:
        return (f"{self.risk:.0%} of {self.jobs} jobs that reached {self.reached:,} tokens "
                f"ended below {self.needed:,}")


class JobLengths:
    """The lengths of ended jobs (tokens), newest ``KEEP``; with ``path``, kept in a file."""

    def __init__(self, path: str = "", keep: int = KEEP):
        self.path = path
        self._lengths: collections.deque = collections.deque(maxlen=keep)
        self._sorted: Optional[list[int]] = None
        if path:
            self._load(path)

    def __len__(self) -> int:
        return len(self._lengths)

    def add(self, job_tokens: int) -> None:
        """A job ended at this length (a job that grew nothing teaches nothing)."""
        if job_tokens <= 0:
            return
        self._lengths.append(int(job_tokens))
        self._sorted = None
        if self.path:
            self._append(int(job_tokens))

    def to_json(self) -> dict:
        """What ``/agentrt/scheduler`` shows: how many ended jobs are known, their median."""
        lengths = self._ordered()
        return {"jobs": len(lengths), "median_tokens": lengths[len(lengths) // 2] if lengths
                else None, "history": self.path or None}

    def end_risk(self, reached: int, needed: int) -> Optional[EndRisk]:
        """How many of the ended jobs that reached ``reached`` ended below ``needed`` (None:
        fewer than MIN_JOBS reached it)."""
        lengths = self._ordered()
        at_least = len(lengths) - bisect.bisect_left(lengths, reached)
        if at_least < MIN_JOBS:
            return None
        ended = bisect.bisect_left(lengths, max(needed, reached)) - bisect.bisect_left(
            lengths, reached)
        return EndRisk(ended / at_least, reached, needed, at_least)

    def _ordered(self) -> list[int]:
        if self._sorted is None:
            self._sorted = sorted(self._lengths)
        return self._sorted

    def _load(self, path: str) -> None:
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    tokens = _job_tokens(line)
                    if tokens:
                        self._lengths.append(tokens)
        except FileNotFoundError:
            return
        except OSError as exc:
            logger.warning("job history %s not read: %s", path, exc)

    def _append(self, job_tokens: int) -> None:
        try:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"job_tokens": job_tokens}) + "\n")
        except OSError as exc:     # kept in memory; the file is not written again
            logger.warning("job history %s not written: %s", self.path, exc)
            self.path = ""


def _job_tokens(line: str) -> int:
    """A history line's job length (0: not a valid one; such lines are skipped)."""
    try:
        value = json.loads(line).get("job_tokens")
    except (ValueError, AttributeError):
        return 0
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def write_history(path: str, lengths) -> None:
    """A job history file of these lengths (what ``--agentrt-job-history`` reads)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for tokens in lengths:
            f.write(json.dumps({"job_tokens": int(tokens)}) + "\n")
