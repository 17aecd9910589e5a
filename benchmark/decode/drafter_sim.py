"""Offline AgentSAM drafter evaluation: ``python -m benchmark.decode.drafter_sim``.

Replays real agent trajectories (nemo-gym, BFCL), the synthetic MiniAgent workload and a
non-repetitive control token by token (``replay.py``: the model is an oracle writing the
trace's assistant turns) and reports, per workload and system, the mean accepted draft tokens
per drafting step, the share of steps that drafted, tokens per step, and the speed-up predicted
by the CPU cost model (a step costs 40 ms + 4 ms per verified draft token), plus the drafter's
own time per step. Systems, all measured in the same run on the same tokens:

| system | drafting |
|---|---|
| agentsam | chain from automaton or store, adaptive width (policy.py) |
| agentsam-tree | as agentsam, top-3 branches at the first position |
| agentsam-nostore | as agentsam, no cross-session store |
| fixed-8 | the agentsam chain, verified at a fixed width of 8 every step (NGRAM-style padding) |
| oracle | the agentsam chain, verifying exactly what will be accepted: the ceiling of any policy |

Plain decoding is the 1.00x baseline. Each (workload, system) appends one JSON line to
``benchmark/results/decode_drafter_sim.jsonl``.
"""
import argparse
import sys
from dataclasses import asdict

from agentrt.speculative.drafter import DrafterConfig
from agentrt.speculative.calibration import BUCKETS, prior
from agentrt.speculative.policy import WidthPolicy
from agentrt.speculative.store import SequenceStore

from benchmark.common import append_result, table
from benchmark.decode.replay import ORACLE, Result, Tally, replay
from benchmark.decode.segments import (control_sessions, default_encoder, distinct_words,
                                       trace_session)

WORKLOADS = ("nemo_gym", "bfcl", "miniagent")
RESULT_NAME = "decode_drafter_sim"
CONTROL_WORD_AGENTS = 40          # nemo-gym agents whose distinct words make the control text


def systems(policy: WidthPolicy) -> dict[str, tuple[DrafterConfig, bool, int | None]]:
    """name -> (drafter config, use a store, fixed width)."""
    chain = DrafterConfig(policy=policy)
    tree = DrafterConfig(max_branches=3, branch_depth=1, policy=policy)
    return {"agentsam": (chain, True, None), "agentsam-tree": (tree, True, None),
            "agentsam-nostore": (chain, False, None), "fixed-8": (chain, True, 8),
            "oracle": (chain, True, ORACLE)}


def load_sessions(names, n_agents: int, seed: int, encode) -> dict[str, list]:
    from benchmark.agent_replay.traces import load_workload

    out = {name: [trace_session(t, encode) for t in load_workload(name, n_agents, seed)]
           for name in names}
    word_traces = load_workload("nemo_gym", CONTROL_WORD_AGENTS, seed + 1)
    texts = [t.system + t.task for t in word_traces]
    texts += [s.assistant + s.tool_output for t in word_traces for s in t.steps]
    words = distinct_words(texts)
    per = 400 + 3 * 120
    out["control"] = control_sessions(words, encode, min(n_agents, len(words) // per), seed)
    return out


def calibration(tally: Tally, half: float) -> list[list]:
    """First drafted token's hit rate by match-length bucket, beside the policy's prior."""
    rows = []
    for b in sorted({b for b, _ in tally.first_hits}):
        hit, miss = tally.first_hits[(b, True)], tally.first_hits[(b, False)]
        m = BUCKETS[b] if b < len(BUCKETS) else BUCKETS[-1] + 1
        label = f"<={m}" if b < len(BUCKETS) else f">{BUCKETS[-1]}"
        rows.append([label, hit + miss, f"{hit / (hit + miss):.2f}", f"{prior(m, half):.2f}"])
    return rows


def run(sessions: dict[str, list], policy: WidthPolicy, seed: int, n_agents: int,
        write: bool) -> list[list]:
    rows, calib = [], {}
    for workload, group in sessions.items():
        gen = sum(s.generated_tokens for s in group)
        for name, (config, use_store, fixed) in systems(policy).items():
            res, tally = replay(group, config, SequenceStore() if use_store else None, fixed)
            rows.append(row(workload, name, len(group), res))
            if name == "agentsam":
                calib[workload] = calibration(tally, policy.match_half)
            if write:
                append_result(RESULT_NAME, {
                    "workload": workload, "system": name, "seed": seed, "agents": n_agents,
                    "model": "SmolLM2-135M-Instruct (tokenizer)", "generated_tokens": gen,
                    "drafter": {"max_tokens": config.max_tokens,
                                "max_branches": config.max_branches, "store": use_store,
                                "fixed_width": fixed},
                    "policy": {"base_ms": policy.cost.base_ms,
                               "per_token_ms": policy.cost.per_token_ms,
                               "max_width": policy.max_width, "min_match": policy.min_match,
                               "match_half": policy.match_half},
                    "metrics": asdict(res)})
    for workload, crows in calib.items():
        print(f"\n{workload}: first drafted token hit rate by match length (agentsam)")
        print(table(["match", "drafts", "hit rate", "prior h(m)"], crows))
    return rows


def row(workload: str, name: str, sessions: int, r: Result) -> list:
    return [workload, name, sessions, r.tokens, r.steps, f"{r.drafted_share:.2f}",
            f"{r.accepted_per_drafted_step:.2f}", f"{r.tokens_per_step:.2f}",
            f"{r.mean_width:.1f}", f"{r.store_share:.2f}", f"{r.predicted_speedup:.2f}x",
            f"{r.overhead_us_mean:.0f}", f"{r.overhead_us_p99:.0f}",
            f"{r.context_us_per_token:.1f}"]


HEADERS = ["workload", "system", "sessions", "tokens", "steps", "drafted", "acc/drafted step",
           "tokens/step", "width", "store", "speed-up", "us/step", "us p99", "us/prompt tok"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    ap.add_argument("--match-half", type=float, default=WidthPolicy().match_half)
    ap.add_argument("--min-match", type=int, default=WidthPolicy().min_match)
    ap.add_argument("--no-write", action="store_true", help="print only, append no result")
    args = ap.parse_args(argv)
    policy = WidthPolicy(match_half=args.match_half, min_match=args.min_match)
    sessions = load_sessions(args.workloads, args.agents, args.seed, default_encoder())
    rows = run(sessions, policy, args.seed, args.agents, not args.no_write)
    print("\nplain decoding = 1.00x; speed-up predicted at 40 ms + 4 ms per verified draft token")
    print(table(HEADERS, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
