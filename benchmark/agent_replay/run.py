"""Agent-trace replay: the same agents on every system, measured side by side in one run.

    .venv/bin/python -m benchmark.agent_replay.run --quick      # (make bench QUICK=1)

N agents arrive over time, each replays a MiniAgent-shaped trace (workload.py) with one context
strategy, tool calls sleeping for Continuum-distributed durations. Per turn: TTFT as the agent
sees it (commit turns include any wait for unfinished preparation). One JSON line per system in
benchmark/results/agent_replay.jsonl and a table of the systems side by side.
"""
import argparse
import asyncio
import statistics
import sys
import time

from tqdm import tqdm

from agentrt.client.managed_server import ManagedServer
from agentrt.lookahead.client import AgentrtClient
from agentrt.lookahead.runtime import LookaheadRuntime
from agentrt.lookahead.strategies import ClearToolResults, Offload, SlidingWindow
from agentrt.lookahead.strategies.offload import OffloadStore
from agentrt.lookahead.strategy import ContextBudget
from agentrt.models import prepare_default_model
from benchmark.agent_replay.systems import SYSTEMS
from benchmark.agent_replay.workload import miniagent
from benchmark.common import append_result, table


def strategy_for(i: int, budget: ContextBudget, offload_dir: str):
    makers = [lambda: SlidingWindow(budget, keep_tokens=budget.tokens // 3),
              lambda: ClearToolResults(budget, keep_last=2),
              lambda: Offload(budget, OffloadStore(offload_dir), limit_tokens=100)]
    return makers[i % len(makers)]()


def pct(values, q):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))] * 1000, 1)


async def run_agent(url, trace, index, lookahead, budget, counter, offload_dir, bar, turns):
    client = AgentrtClient(url)
    rt = LookaheadRuntime(client, strategy_for(index, budget, offload_dir),
                          session_id=f"{trace.agent_id}", enabled=lookahead,
                          count_tokens=counter)
    msgs = [{"role": "system", "content": trace.system}, {"role": "user", "content": trace.task}]
    start = time.perf_counter()
    for step_no, step in enumerate(trace.steps):
        before = len(rt.records)
        msgs = await rt.on_commit(msgs)
        record = rt.records[-1] if len(rt.records) > before else None
        reply = await rt.chat(msgs, max_tokens=8, temperature=0.0)
        turns.append({"agent": trace.agent_id, "step": step_no, "commit": record is not None,
                      "outcome": record.outcome if record else None,
                      "ttft_s": reply.ttft_s + (record.waited_s if record else 0.0),
                      "prompt": reply.prompt_tokens, "cached": reply.cached_tokens})
        msgs.append({"role": "assistant", "content": step.assistant})
        await rt.on_segment_boundary(msgs)
        await asyncio.sleep(step.tool_s)
        msgs.append({"role": "tool", "content": step.tool_output})
        await rt.on_segment_boundary(msgs)
        bar.update(1)
    await rt.close()
    await client.close()
    return time.perf_counter() - start


async def run_system(url, traces, lookahead, budget, counter, offload_dir, arrival_s, bar):
    turns: list[dict] = []

    async def staggered(i, trace):
        await asyncio.sleep(i * arrival_s)
        return await run_agent(url, trace, i, lookahead, budget, counter, offload_dir, bar, turns)

    jcts = await asyncio.gather(*(staggered(i, t) for i, t in enumerate(traces)))
    return turns, jcts


def summarize(turns, jcts) -> dict:
    commit = [t["ttft_s"] for t in turns if t["commit"]]
    ordinary = [t["ttft_s"] for t in turns[len(jcts):] if not t["commit"]]  # skip cold first turns
    outcomes = {}
    for t in turns:
        if t["outcome"]:
            outcomes[t["outcome"]] = outcomes.get(t["outcome"], 0) + 1
    prompt = sum(t["prompt"] for t in turns)
    return {"commit_ttft_p50_ms": pct(commit, 0.5), "commit_ttft_p99_ms": pct(commit, 0.99),
            "ordinary_ttft_p50_ms": pct(ordinary, 0.5),
            "ordinary_ttft_p99_ms": pct(ordinary, 0.99),
            "jct_mean_s": round(statistics.mean(jcts), 2), "commits": len(commit),
            "commit_outcomes": outcomes,
            "prefix_hit_rate": round(sum(t["cached"] for t in turns) / prompt, 3) if prompt else 0}


def make_counter(model_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_path)

    async def count(messages):
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
        return len(tok.encode(text, add_special_tokens=False))
    return count


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="2 agents, 16 steps, 3,000-token budget (a few minutes)")
    ap.add_argument("--agents", type=int, default=4)
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--budget", type=int, default=4000, help="context budget in tokens")
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.quick:
        args.agents, args.steps, args.budget = 2, 16, 3000
    model = prepare_default_model()
    counter = make_counter(model)
    budget = ContextBudget(args.budget)
    traces = [miniagent(f"agent-{i}", args.seed * 100 + i, steps=args.steps)
              for i in range(args.agents)]
    results = {}
    for name in args.systems.split(","):
        system = SYSTEMS[name]
        with ManagedServer(list(system.args) + ["--model-path", str(model)],
                           module=system.module,
                           env={"SGLANG_USE_CPU_ENGINE": "1"}) as srv, \
                tqdm(total=args.agents * args.steps, desc=name, file=sys.stderr) as bar:
            turns, jcts = asyncio.run(run_system(srv.url, traces, system.lookahead, budget,
                                                 counter, f"/tmp/agentrt-bench-offload-{name}",
                                                 1.0, bar))
        results[name] = summarize(turns, jcts)
        append_result("agent_replay", {"system": name, "workload": "miniagent",
                                       "n_agents": args.agents, "steps": args.steps,
                                       "budget": args.budget, "model": "SmolLM2-135M-Instruct",
                                       "seed": args.seed, "quick": args.quick, **results[name]})
    keys = ["commit_ttft_p50_ms", "commit_ttft_p99_ms", "ordinary_ttft_p50_ms",
            "ordinary_ttft_p99_ms", "jct_mean_s", "commits", "prefix_hit_rate"]
    print(table(["metric"] + list(results), [[k] + [results[s][k] for s in results] for k in keys]))
    for s in results:
        print(f"{s}: commit outcomes {results[s]['commit_outcomes']}")
    if "vanilla" in results and "agentrt" in results:
        v, a = results["vanilla"], results["agentrt"]
        if v["commit_ttft_p50_ms"] and a["commit_ttft_p50_ms"]:
            print(f"commit TTFT p50 vanilla / agentrt: "
                  f"{v['commit_ttft_p50_ms'] / a['commit_ttft_p50_ms']:.1f}x; "
                  f"JCT vanilla / agentrt: {v['jct_mean_s'] / a['jct_mean_s']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
