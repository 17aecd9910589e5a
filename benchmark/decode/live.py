"""Live decode benchmark: the default model served by `agentrt serve`, AGENTSAM off vs on.

``python -m benchmark.decode.live [--max-new 128] [--prompts 4] [--batch 4] [--rounds 1]
[--quick] [--workloads nemo_gym,bfcl,prose,agent_edit] [--no-write]``

One server per system and round, started one after the other with the same flags except
``--agentrt-speculative off`` / ``agentsam`` (+ ``--speculative-num-draft-tokens``). Greedy.
``--rounds N`` alternates them N times (off, on, off, on, ...): this shared 2-core machine's
speed drifts by more than the 3 % the prose target resolves, so one pair of servers can land on
two different machine states; a system's rounds are summed (tokens, wall time, steps).
Workloads and their prompts: ``live_workloads.py`` (agent turns continuing real nemo-gym and
BFCL histories, a file edit, prose). Per workload, in this order on each server:

| phase   | prompts              | how                                                       |
|---------|----------------------|-----------------------------------------------------------|
| batch 1 | the first ``prompts`` | one at a time                                            |
| batch B | the next B           | sent together (B concurrent requests share decode steps)   |

Every prompt is first sent with ``max_new_tokens`` 1 (its prefix is then cached), so the timed
requests measure decoding. tokens/s: completion tokens / wall time (batch 1: summed request
times; batch B: first send to last answer). Tokens per step: completion tokens / verify steps
(``meta_info.spec_verify_ct``); ms per step: wall time / steps (batch 1: all requests' steps;
batch B: the steps of the longest request, the batch's step count).
Outputs must be identical on and off (asserted after the table: exit status 1 otherwise).
One JSON line per (workload, batch, system) goes to ``results/decode.jsonl``; the targets
(``targets.py``) are printed with verdicts.
"""
import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from benchmark.common import append_result, table
from benchmark.decode import live_workloads, targets

SYSTEMS = ("off", "agentsam")


def generate(url: str, text: str, max_new: int) -> dict:
    body = {"text": text, "sampling_params": {"max_new_tokens": max_new, "temperature": 0}}
    t0 = time.perf_counter()
    out = requests.post(url + "/generate", json=body, timeout=1800)
    out.raise_for_status()
    res = out.json()
    res["wall_s"] = time.perf_counter() - t0
    return res


def summarize(runs: list[dict], wall: float, concurrent: bool) -> dict:
    meta = [r["meta_info"] for r in runs]
    tokens = sum(m["completion_tokens"] for m in meta)
    steps = [m.get("spec_verify_ct", 0) or m["completion_tokens"] for m in meta]
    return {"output_ids": [r["output_ids"] for r in runs], "tokens": tokens, "wall_s": wall,
            "tok_s": tokens / wall, "verify_steps": sum(steps),
            "ms_per_step": 1000 * wall / (max(steps) if concurrent else sum(steps)),
            "accepted_drafts": sum(m.get("spec_num_correct_drafts", 0) for m in meta)}


def batch_one(url: str, prompts: list[str], max_new: int) -> dict:
    runs = []
    for prompt in prompts:
        generate(url, prompt, 1)                       # cache the prompt's prefix
        runs.append(generate(url, prompt, max_new))
    return summarize(runs, sum(r["wall_s"] for r in runs), concurrent=False)


def batch_concurrent(url: str, prompts: list[str], max_new: int) -> dict:
    for prompt in prompts:
        generate(url, prompt, 1)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(prompts)) as pool:
        runs = list(pool.map(lambda p: generate(url, p, max_new), prompts))
    return summarize(runs, time.perf_counter() - t0, concurrent=True)


def measure(url: str, prompts: dict, n1: int, batch: int, max_new: int,
            batched_only: bool = False) -> dict:
    """{(workload, batch): summary} on one server (module table); ``batched_only`` skips the
    batch-1 phase (the batched prompts stay the same ones)."""
    got = {}
    for name, texts in prompts.items():
        print(f"  {name}: batch 1 x {n1}, batch {batch}", file=sys.stderr, flush=True)
        if n1 and not batched_only:
            got[(name, 1)] = batch_one(url, texts[:n1], max_new)
        if batch:
            got[(name, batch)] = batch_concurrent(url, texts[n1:n1 + batch], max_new)
    return got


def server_flags(system: str, draft_tokens: int) -> list[str]:
    if system == "off":
        return ["--agentrt-speculative", "off"]
    return ["--agentrt-speculative", "agentsam",
            "--speculative-num-draft-tokens", str(draft_tokens)]


def merge_rounds(rounds: list[dict]) -> dict:
    """One system's {(workload, batch): summary} over its rounds: tokens, wall time, steps and
    accepted drafts summed, rates recomputed; ``output_ids`` of the first round, and
    ``same_each_round`` whether every round decoded exactly those."""
    out = {}
    for key, first in rounds[0].items():
        got = [r[key] for r in rounds]
        tokens, wall = sum(s["tokens"] for s in got), sum(s["wall_s"] for s in got)
        out[key] = {
            "output_ids": first["output_ids"], "tokens": tokens, "wall_s": wall,
            "tok_s": tokens / wall, "verify_steps": sum(s["verify_steps"] for s in got),
            "ms_per_step": sum(s["ms_per_step"] for s in got) / len(got),
            "accepted_drafts": sum(s["accepted_drafts"] for s in got),
            "same_each_round": all(s["output_ids"] == first["output_ids"] for s in got)}
    return out


def combine(results: dict) -> dict:
    """{(workload, batch, system): summary + identical} from {system: {(workload, batch): s}}."""
    out = {}
    for key, off in results["off"].items():
        on = results["agentsam"][key]
        identical = (off["output_ids"] == on["output_ids"] and off["same_each_round"]
                     and on["same_each_round"])
        for system in SYSTEMS:
            out[key + (system,)] = dict(results[system][key], identical=identical)
    return out


def rows_and_records(summaries: dict, args) -> tuple[list[list], list[dict]]:
    rows, records = [], []
    for (name, batch, system), s in summaries.items():
        off = summaries[(name, batch, "off")]
        speedup = s["tok_s"] / off["tok_s"]
        per_step = s["tokens"] / s["verify_steps"] if s["verify_steps"] else 1.0
        rows.append([name, batch, system, s["tokens"], f"{s['tok_s']:.1f}", f"{speedup:.2f}x",
                     f"{per_step:.2f}", f"{s['ms_per_step']:.0f}", s["accepted_drafts"],
                     s["identical"]])
        records.append({
            "benchmark": "decode_live", "model": "default", "workload": name, "system": system,
            "batch": batch, "prompts": len(s["output_ids"]), "max_new_tokens": args.max_new,
            "draft_tokens": args.draft_tokens, "seed": args.seed, "quick": args.quick,
            "variant": args.variant, "rounds": args.rounds,
            "tokens": s["tokens"], "wall_s": round(s["wall_s"], 3),
            "tok_s": round(s["tok_s"], 2), "speedup": round(speedup, 3),
            "tokens_per_step": round(per_step, 3), "ms_per_step": round(s["ms_per_step"], 1),
            "accepted_drafts": s["accepted_drafts"], "identical_outputs": s["identical"]})
    return rows, records


def parse(argv) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-new", type=int, default=128)
    ap.add_argument("--draft-tokens", type=int, default=8)
    ap.add_argument("--prompts", type=int, default=4, help="batch-1 prompts per workload")
    ap.add_argument("--batch", type=int, default=4, help="0: no batched phase")
    ap.add_argument("--batched-only", action="store_true", help="skip the batch-1 phase")
    ap.add_argument("--budget", type=int, default=2500, help="agent-turn prompt tokens, at most")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=1,
                    help="alternate the off and on servers this many times, summing each's rounds")
    ap.add_argument("--workloads", default="nemo_gym,bfcl,prose,agent_edit")
    ap.add_argument("--quick", action="store_true",
                    help="development: 2 + 2 prompts, 48 new tokens, nothing written")
    ap.add_argument("--variant", default="", help="a label for the records (e.g. the code "
                    "a before/after comparison ran)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    if args.quick:
        args.prompts, args.batch, args.max_new, args.no_write = 2, 2, 48, True
    return args


def main(argv=None) -> int:
    args = parse(argv)
    from agentrt.client.managed_server import ManagedServer

    prompts = live_workloads.build(args.workloads.split(","), args.prompts + args.batch,
                                   args.seed, args.budget)
    rounds = {system: [] for system in SYSTEMS}
    for round_no in range(args.rounds):
        for system in SYSTEMS:
            print(f"{system} (round {round_no + 1} of {args.rounds}): starting the server",
                  file=sys.stderr, flush=True)
            with ManagedServer(server_flags(system, args.draft_tokens), ready_timeout_s=600,
                               log_path=f"/tmp/agentrt-decode-live-{system}.log") as srv:
                rounds[system].append(measure(srv.url, prompts, args.prompts, args.batch,
                                              args.max_new, args.batched_only))
    summaries = combine({system: merge_rounds(got) for system, got in rounds.items()})
    rows, records = rows_and_records(summaries, args)
    print(table(["workload", "batch", "system", "tokens", "tok/s", "vs off", "tokens/step",
                 "ms/step", "accepted drafts", "identical"], rows))
    verdicts = targets.check(summaries, args.batch)
    print(table(["target", "batch", "goal", "measured", "verdict"],
                [[v.target, v.batch, v.goal, v.measured, targets.verdict_text(v.ok)]
                 for v in verdicts]))
    if not args.no_write:
        for record in records:
            append_result("decode", record)
    identical = all(s["identical"] for s in summaries.values())
    assert identical, "outputs differ between speculation off and on"
    return 0


if __name__ == "__main__":
    sys.exit(main())
