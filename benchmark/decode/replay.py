"""Replay sessions token by token through a drafter and count what verification would accept.

Rules of one generated segment (what a greedy speculative decoder would do, the model being an
oracle that writes exactly the trace's tokens):
- each step the drafter proposes a draft already cut to its width w (w = 0: plain decoding);
- the step accepts ``draft.accepted(rest)`` draft tokens (the longest root path equal to the
  true next tokens) and the model adds its own token, so it emits ``min(accepted + 1, rest)``
  tokens, which are then appended to the drafter;
- the step costs ``cost.verify_ms(w)`` (with ``fixed_width`` W: the draft is cut to W and
  every step costs ``verify_ms(W)``, as SGLang's NGRAM pads drafts to a fixed width; with
  ``fixed_width=ORACLE`` each step verifies exactly the draft tokens that will be accepted, the
  ceiling of any width policy on the same drafts); plain decoding of the same tokens costs
  ``cost.base_ms`` each, so the predicted speed-up is ``tokens * base_ms / sum(step costs)``.
Context segments are appended to the drafter unchanged. Sessions run one after another; each
finished session's sequence goes into the shared store (its group: the session id).
The drafter's own time (propose + append, per step) is measured with ``perf_counter_ns``.
"""
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from agentrt.speculative.calibration import bucket
from agentrt.speculative.drafter import DrafterConfig, RequestDrafter
from agentrt.speculative.policy import StepCost
from agentrt.speculative.store import SequenceStore

from benchmark.decode.segments import Session


ORACLE = -1


@dataclass
class Tally:
    tokens: int = 0
    steps: int = 0
    drafted_steps: int = 0
    accepted: int = 0
    verified: int = 0
    store_steps: int = 0
    step_ms: float = 0.0
    overhead_ns: list[int] = field(default_factory=list)
    context_ns: int = 0                                      # appending prompt segments
    context_tokens: int = 0
    first_hits: Counter = field(default_factory=Counter)    # (match bucket, hit) at depth 1


@dataclass(frozen=True)
class Result:
    tokens: int
    steps: int
    drafted_share: float
    accepted_per_drafted_step: float
    tokens_per_step: float
    mean_width: float
    store_share: float
    predicted_speedup: float
    overhead_us_mean: float
    overhead_us_p99: float
    context_us_per_token: float


def _turn(drafter: RequestDrafter, truth: Sequence[int], cost: StepCost, tally: Tally,
          fixed_width: int | None) -> None:
    pos = 0
    while pos < len(truth):
        t0 = time.perf_counter_ns()
        proposal = drafter.propose()
        t1 = time.perf_counter_ns()
        rest = truth[pos:]
        draft, width = proposal.draft, proposal.width.width
        if fixed_width == ORACLE:
            draft = proposal.full
            width = min(draft.accepted(rest), len(rest) - 1)
        elif fixed_width is not None:
            draft, width = proposal.full.truncate(fixed_width), fixed_width
        accepted = draft.accepted(rest)
        emitted = min(accepted + 1, len(rest))
        t2 = time.perf_counter_ns()
        drafter.extend(rest[:emitted])
        tally.overhead_ns.append(time.perf_counter_ns() - t2 + t1 - t0)
        full = proposal.full
        if len(full):
            tally.first_hits[(bucket(full.match_len), full.tokens[0] == rest[0])] += 1
        tally.steps += 1
        tally.tokens += emitted
        tally.step_ms += cost.verify_ms(width)
        if width:
            tally.drafted_steps += 1
            tally.verified += width
            tally.accepted += min(accepted, emitted)
            tally.store_steps += draft.source == "store"
        pos += emitted


def replay(sessions: Sequence[Session], config: DrafterConfig,
           store: SequenceStore | None = None,
           fixed_width: int | None = None) -> tuple[Result, Tally]:
    """Replay ``sessions`` in order (module rules); ``store`` None: no cross-session store."""
    cost = config.policy.cost
    tally = Tally()
    for session in sessions:
        drafter = RequestDrafter((), session.session_id, store, config)
        for seg in session.segments:
            if seg.generated:
                _turn(drafter, seg.tokens, cost, tally, fixed_width)
            else:
                t0 = time.perf_counter_ns()
                drafter.extend(seg.tokens)
                tally.context_ns += time.perf_counter_ns() - t0
                tally.context_tokens += len(seg.tokens)
        if store is not None:
            store.put(session.session_id, drafter.tokens, session.session_id)
    return summarize(tally, cost), tally


def summarize(t: Tally, cost: StepCost) -> Result:
    ns = sorted(t.overhead_ns) or [0]
    return Result(
        tokens=t.tokens, steps=t.steps,
        drafted_share=t.drafted_steps / max(t.steps, 1),
        accepted_per_drafted_step=t.accepted / max(t.drafted_steps, 1),
        tokens_per_step=t.tokens / max(t.steps, 1),
        mean_width=t.verified / max(t.drafted_steps, 1),
        store_share=t.store_steps / max(t.drafted_steps, 1),
        predicted_speedup=t.tokens * cost.base_ms / max(t.step_ms, 1e-9),
        overhead_us_mean=sum(ns) / len(ns) / 1e3,
        overhead_us_p99=ns[min(len(ns) - 1, int(0.99 * len(ns)))] / 1e3,
        context_us_per_token=t.context_ns / max(t.context_tokens, 1) / 1e3)
