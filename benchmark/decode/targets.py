"""Step 12's decode targets, checked on one live run (pure functions over its summaries).

A summary is a dict with ``tokens``, ``wall_s`` and ``identical`` (outputs equal off vs on),
keyed ``(workload, batch, system)`` with system ``off`` or ``agentsam``. A group's speed-up is
its summed tokens over its summed wall time, on / off (so a group of workloads is weighted by
tokens, as a user decoding all of them would see it).

| target                     | workloads            | batch | rule          |
|----------------------------|----------------------|-------|---------------|
| agent turns, batch 1       | nemo_gym + bfcl      | 1     | >= 1.8x       |
| agent turns, batch 4       | nemo_gym + bfcl      | 4     | >= 1.3x       |
| non-repetitive text        | prose                | 1, 4  | >= 0.97x each |
| outputs identical          | every measured one   | all   | equal tokens  |

The batched rows use the run's batch size (``check(summaries, batch)``, 4 in the full run; a
quick run's smaller batch is shown as measured, not as batch 4). A target whose workloads were
not measured reads ``not run``.
"""
from typing import NamedTuple, Sequence

AGENT = ("nemo_gym", "bfcl")
BATCHED = "B"                    # stands for the run's batch size
TARGETS = (("agent turns", AGENT, 1, 1.8), ("agent turns", AGENT, BATCHED, 1.3),
           ("non-repetitive text", ("prose",), 1, 0.97),
           ("non-repetitive text", ("prose",), BATCHED, 0.97))


class Verdict(NamedTuple):
    target: str
    batch: int | str
    goal: str
    measured: str
    ok: bool | None              # None: not run


def group_speedup(summaries: dict, workloads: Sequence[str], batch: int) -> float | None:
    """Summed tokens / summed wall, on over off; None when a workload is missing."""
    rate = {}
    for system in ("off", "agentsam"):
        keys = [(w, batch, system) for w in workloads]
        if any(k not in summaries for k in keys):
            return None
        rate[system] = (sum(summaries[k]["tokens"] for k in keys)
                        / sum(summaries[k]["wall_s"] for k in keys))
    return rate["agentsam"] / rate["off"]


def check(summaries: dict, batch_size: int = 4) -> list[Verdict]:
    """One verdict per row of the module table, batched rows at ``batch_size``."""
    out = []
    for name, workloads, batch, goal in TARGETS:
        batch = batch_size if batch == BATCHED else batch
        speedup = group_speedup(summaries, workloads, batch)
        label = f"{name} ({' + '.join(workloads)})"
        if speedup is None:
            out.append(Verdict(label, batch, f">= {goal}x", "not run", None))
        else:
            out.append(Verdict(label, batch, f">= {goal}x", f"{speedup:.2f}x", speedup >= goal))
    same = [s["identical"] for k, s in summaries.items() if k[2] == "agentsam"]
    out.append(Verdict("outputs identical", "all", "every request",
                       f"{sum(same)} / {len(same)} runs", bool(same) and all(same)))
    return out


def verdict_text(ok: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "not run"}[ok]
