"""Session affinity behind SGLang's router: 2 agentrt workers, one run, every policy side by side.

    python -m benchmark.cluster.run [--agents 6] [--steps 8] [--quick] [--model-path DIR]

N MiniAgent-shaped agents (workload.py; tool outputs as user observations) replay their traces
concurrently through the router, each turn a chat completion carrying
``X-SMG-Routing-Key: <agent>``. Systems, on the same two running workers (caches flushed in
between): ``single`` (one worker, no router: the hit-rate reference), ``affinity`` (smg policy
``manual``, what ``agentrt cluster`` runs), ``round_robin`` and ``cache_aware`` (smg's default).
Reported per system: prefix-hit rate (cached / prompt tokens), JCT (mean and max of the agents'
completion times) and turn latency p50; the targets (affinity JCT >= 1.3x round_robin's,
affinity hit rate within 5 % of single's) are checked on the run. One JSON line per system goes
to results/cluster.jsonl, the table to results/cluster.md.
"""
import argparse
import statistics
import threading
import time

import requests

from agentrt.client.flush import flush_cache
from agentrt.cluster.launch import Cluster
from agentrt.cluster.routing import routing_headers
from benchmark.agent_replay.workload import miniagent
from benchmark.common import RESULTS, append_result, table

SYSTEMS = {"affinity": "manual", "round_robin": "round_robin", "cache_aware": "cache_aware"}


def conversation(trace, steps: int) -> list[dict]:
    msgs = [{"role": "system", "content": trace.system}, {"role": "user", "content": trace.task}]
    for step in trace.steps[:steps]:
        msgs += [{"role": "assistant", "content": step.assistant},
                 {"role": "user", "content": "Observation: " + step.tool_output}]
    return msgs


def run_agent(url: str, model: str, trace, out: list) -> None:
    started, turns = time.perf_counter(), []
    for k in range(len(trace.steps)):
        t0 = time.perf_counter()
        resp = requests.post(url + "/v1/chat/completions", headers=routing_headers(trace.agent_id),
                             timeout=600, json={"model": model, "messages": conversation(trace, k),
                                                "max_tokens": 4, "temperature": 0})
        resp.raise_for_status()
        usage = resp.json()["usage"]
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
        turns.append((time.perf_counter() - t0, usage["prompt_tokens"], cached))
    out.append((time.perf_counter() - started, turns))


def replay(url: str, traces) -> dict:
    model = requests.get(url + "/v1/models", timeout=30).json()["data"][0]["id"]
    results: list = []
    threads = [threading.Thread(target=run_agent, args=(url, model, t, results)) for t in traces]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    turns = [turn for _, ts in results for turn in ts]
    jct = [total for total, _ in results]
    return {"hit_rate": round(sum(c for _, _, c in turns) / sum(p for _, p, _ in turns), 4),
            "jct_mean_s": round(statistics.mean(jct), 2), "jct_max_s": round(max(jct), 2),
            "turn_p50_s": round(statistics.median(t for t, _, _ in turns), 3),
            "turns": len(turns), "prompt_tokens": sum(p for _, p, _ in turns)}


def flush(cluster: Cluster) -> None:
    for worker in cluster.workers:
        flush_cache(worker.url)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model-path", default=None, help="default: the embedded default model")
    parser.add_argument("--quick", action="store_true", help="4 agents x 5 steps")
    args = parser.parse_args(argv)
    agents, steps = (4, 5) if args.quick else (args.agents, args.steps)
    traces = [miniagent(f"agent-{i}", args.seed * 100 + i, steps=steps, max_tool_s=0.0)
              for i in range(agents)]
    worker_args = ["--model-path", args.model_path] if args.model_path else []
    cluster = Cluster(2, worker_args, policy="manual", log_dir="/tmp")
    rows = {}
    try:
        for worker in cluster.workers:
            worker.start()
        flush(cluster)
        rows["single"] = replay(cluster.workers[0].url, traces)
        for name, policy in SYSTEMS.items():
            flush(cluster)
            cluster.start_router(policy)
            flush(cluster)            # the readiness probe cached a prompt
            rows[name] = replay(cluster.url, traces)
    finally:
        cluster.stop()
    report(rows, agents, steps, args)
    return 0


def report(rows: dict, agents: int, steps: int, args) -> None:
    model = args.model_path or "default (SmolLM2-135M)"
    for name, metrics in rows.items():
        append_result("cluster", {"workload": "miniagent", "system": name, "agents": agents,
                                  "steps": steps, "seed": args.seed, "workers": 2,
                                  "model": model, **metrics})
    headers = ["system", "hit rate", "JCT mean s", "JCT max s", "turn p50 s"]
    body = table(headers, [[n, f"{m['hit_rate']:.1%}", m["jct_mean_s"], m["jct_max_s"],
                            m["turn_p50_s"]] for n, m in rows.items()])
    speedup = rows["round_robin"]["jct_mean_s"] / rows["affinity"]["jct_mean_s"]
    gap = rows["single"]["hit_rate"] - rows["affinity"]["hit_rate"]
    checks = [f"affinity JCT vs round_robin: {speedup:.2f}x (target >= 1.3x): "
              f"{'met' if speedup >= 1.3 else 'missed'}",
              f"affinity hit rate {rows['affinity']['hit_rate']:.1%} vs single "
              f"{rows['single']['hit_rate']:.1%} (target: within 5 points): "
              f"{'met' if gap <= 0.05 else 'missed'}"]
    text = (f"# Session affinity, 2 workers, {agents} agents x {steps} steps, {model}\n\n"
            + body + "\n\n" + "\n".join(f"- {c}" for c in checks) + "\n")
    (RESULTS / "cluster.md").write_text(text)
    print(text)


if __name__ == "__main__":
    raise SystemExit(main())
