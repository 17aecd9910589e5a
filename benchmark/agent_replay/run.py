"""Agent-trace replay: the same agents on every system, measured side by side in one run.

    .venv/bin/python -m benchmark.agent_replay.run --quick      # (make bench QUICK=1)
    .venv/bin/python -m benchmark.agent_replay.run              # (make bench) full mode
    .venv/bin/python -m benchmark.agent_replay.run --workload nemo_gym --agents 4
    .venv/bin/python -m benchmark.agent_replay.run --regime idle --quick   # (make bench REGIME=idle)

N agents arrive over time; each replays a trace (workloads: the synthetic MiniAgent shape, real
nemo-gym rollouts, BFCL long-context tasks) with one context strategy, tool calls sleeping for
Continuum-distributed durations. Per turn: TTFT as the agent sees it (commit turns include any
wait for unfinished preparation) and the gaps between streamed tokens (TBT). One JSON line per
system in benchmark/results/agent_replay.jsonl, a markdown table and a TTFT-per-turn plot.

The interference benchmark (``--interference 1,2,4,8``, step 5's target) runs, for each N, the
agentrt server with the lookahead runtime on and off (``agentrt`` / ``agentrt_bg_off``) and
reports foreground p99 TTFT (ordinary turns) and p99 TBT on / off, and the share of commits
whose preparation was ready, in benchmark/results/interference.jsonl and interference.md.

``--regime idle|saturated|memory`` (step 10, ``regimes.py``) runs vanilla, ttl_only, kernel_only
and agentrt on desynchronized agents with the regime's tool scale and KV pool, then prints the
regime's table and its targets with verdicts (``targets.regime_verdicts``). ``--systems
vanilla,ttl_only,kernel_only,agentrt,server_edit[,server_edit_sync]`` adds issue 17's
server-side context editing through the ``openai`` SDK (``sdk_agent.py``) to the same run.
"""
import argparse
import asyncio
import shlex
import signal
import statistics
import sys
import threading
import time

import httpx

from agentrt.client.managed_server import ManagedServer
from agentrt.lookahead.client import AgentrtClient
from agentrt.lookahead.job_length import write_history
from agentrt.lookahead.runtime import LookaheadRuntime
from agentrt.lookahead.strategies import ClearToolResults, Offload, SlidingWindow
from agentrt.lookahead.strategies.offload import OffloadStore
from agentrt.lookahead.strategy import ContextBudget
from agentrt.models import prepare_default_model
from benchmark.agent_replay import sdk_agent
from benchmark.agent_replay.drift import combine, machine_gflops, run_order
from benchmark.agent_replay.interference import interference_rows, write_interference
from benchmark.agent_replay.percentiles import pct
from benchmark.agent_replay.progress import turn_bar
from benchmark.agent_replay.regime_report import HEADERS as REGIME_HEADERS
from benchmark.agent_replay.regime_report import regime_rows, write_regime_report
from benchmark.agent_replay.regimes import (
    CALIBRATIONS,
    REGIMES,
    calibrated_scale,
    regime_settings,
    regime_traces,
    start_offsets,
    tool_path_s,
)
from benchmark.agent_replay.report import turn_records, write_report
from benchmark.agent_replay.stall_report import gap_causes
from benchmark.agent_replay.systems import (BG_OFF, DEFAULT, SYSTEMS, System,
                                            with_agentrt_flags, with_pool)
from benchmark.agent_replay.targets import (
    BUSY_RANGE,
    busy_share,
    check_targets,
    regime_verdicts,
    target_table,
)
from benchmark.agent_replay.traces import WORKLOADS, load_workload
from benchmark.agent_replay.traces.population import other_job_lengths
from benchmark.agent_replay.traces.stats import trace_stats
from benchmark.agent_replay.traces.tokens import tokenizer_counter
from benchmark.common import RESULTS, append_result, table

READY = {"ready", "promoted"}


def strategy_for(i: int, budget: ContextBudget, offload_dir: str, count_text):
    """Agent i's strategy; ``count_text`` counts a message's tokens in the budget's unit (the
    model's tokenizer: a strategy's own estimate would size windows and limits differently)."""
    makers = [lambda: SlidingWindow(budget, keep_tokens=budget.tokens // 3,
                                    count_tokens=count_text),
              lambda: ClearToolResults(budget, keep_last=2, count_tokens=count_text),
              lambda: Offload(budget, OffloadStore(offload_dir), limit_tokens=100,
                              count_tokens=count_text)]
    return makers[i % len(makers)]()


def rounded_s(seconds):
    return None if seconds is None else round(seconds, 2)


def fit_of(record) -> float | None:
    """A commit record's ``best_fit`` for the results (999: no idle time at any check)."""
    return None if record.best_fit is None else round(min(record.best_fit, 999.0), 2)


class Replay:
    """One system's replay of all agents against one server."""

    def __init__(self, url: str, system: System, budget: ContextBudget, counter, count_text,
                 gen_tokens: int, offload_dir: str, bar):
        self.url, self.system, self.budget, self.counter = url, system, budget, counter
        self.count_text = count_text
        self.gen_tokens, self.offload_dir, self.bar = gen_tokens, offload_dir, bar
        self.turns: list[dict] = []
        self.preparations = 0
        self.deferred_starts = 0         # preparations the capacity check deferred
        self.ends_first = 0              # ... the agent's step limit ruled out (horizon.py)
        self.start_decisions: list[dict] = []   # each capacity decision (need_s vs idle_s)
        self.commits: list[dict] = []    # the runtime's commit records (diagnostics)
        self.began = time.perf_counter()   # the replay's start: turns record when they were sent
        self.began_unix = time.time()      # ... on the clock the server's stalls are dated by

    async def agent(self, trace, index: int) -> float:
        if self.system.server_edit is not None:
            return await self.sdk_agent(trace)
        client = AgentrtClient(self.url)
        sid = trace.agent_id
        rt = LookaheadRuntime(client, strategy_for(index, self.budget, self.offload_dir,
                                                   self.count_text),
                              session_id=sid, enabled=self.system.lookahead,
                              count_tokens=self.counter, max_calls=trace.step_limit)
        start = time.perf_counter()     # a session's open is part of the job (the runtime's is)
        if self.system.agentrt_session:
            await client.open_session(sid)
        msgs = [{"role": "system", "content": trace.system},
                {"role": "user", "content": trace.task}]
        for step_no, step in enumerate(trace.steps):
            before = len(rt.records)
            hooks_start = time.perf_counter()
            msgs = await rt.on_commit(msgs)
            hooks_s = time.perf_counter() - hooks_start
            last = step_no == len(trace.steps) - 1
            extra = {"agent_hints": {"tool_name": "tool"}} \
                if self.system.tool_hints and not last else None
            sent_s = time.perf_counter() - self.began
            reply = await rt.chat(msgs, max_tokens=self.gen_tokens, temperature=0.0,
                                  ignore_eos=True, extra=extra)
            # read after the call: chat() settles the commit (its swap went beside the request)
            record = rt.records[before] if len(rt.records) > before else None
            self.turns.append({
                "agent": sid, "step": step_no, "commit": record is not None,
                "outcome": record.outcome if record else None,
                "ttft_s": reply.ttft_s + (record.waited_s if record else 0.0),
                "gaps_s": list(reply.gaps_s), "prompt": reply.prompt_tokens,
                "cached": reply.cached_tokens, "hooks_s": hooks_s, "sent_s": sent_s,
                "first_s": sent_s + reply.ttft_s})
            if last:
                # the trace's last reply is the agent's final answer: it ends there (a tool
                # output after it would start preparations no later call can commit)
                self.bar.update(1)
                break
            hooks_start = time.perf_counter()
            msgs.append({"role": "assistant", "content": step.assistant})
            await rt.on_segment_boundary(msgs)
            hooks_s += time.perf_counter() - hooks_start
            await asyncio.sleep(step.tool_s)
            hooks_start = time.perf_counter()
            msgs.append({"role": "tool", "content": step.tool_output})
            await rt.on_segment_boundary(msgs)
            # the runtime's own time on the agent's critical path (a commit's wait included)
            self.turns[-1]["hooks_s"] = hooks_s + time.perf_counter() - hooks_start
            self.bar.update(1)
        self.preparations += rt.preparations_started
        self.deferred_starts += rt.deferred_starts
        self.ends_first += rt.ends_first
        self.start_decisions += [{"agent": sid, **d._asdict()} for d in rt.start_decisions]
        self.commits += [{"agent": sid, "outcome": r.outcome, "waited_ms": round(r.waited_s * 1e3),
                          "ttft_ms": round((r.ttft_s or 0) * 1e3),
                          "prepared_tokens": r.prepared_tokens, "cached_tokens": r.cached_tokens,
                          "reason": r.reason, "best_fit": fit_of(r), "lead_s": rounded_s(r.lead_s),
                          "need_s": rounded_s(r.need_s)} for r in rt.records]
        await rt.close()
        if self.system.agentrt_session:
            await client.close_session(sid)
        await client.close()
        return time.perf_counter() - start

    async def sdk_agent(self, trace) -> float:
        """A ``server_edit`` system's agent (``sdk_agent.py``): an ``openai`` SDK client whose
        server edits its context at the runtime's hard threshold, prepared from its soft one."""
        trigger = await sdk_agent.agent_trigger(trace, self.budget.hard_tokens, self.counter,
                                                self.count_text)
        fraction = round(self.budget.soft / self.budget.hard, 3) if self.system.server_edit \
            else None

        def record(turn: dict) -> None:
            self.turns.append(turn)
            self.bar.update(1)
        return await sdk_agent.run_agent(self.url, trace,
                                         sdk_agent.context_management(trigger, fraction),
                                         self.gen_tokens, record)

    async def run(self, traces, offsets: list[float]) -> list[float]:
        self.began, self.began_unix = time.perf_counter(), time.time()
        async def staggered(i, trace):
            await asyncio.sleep(offsets[i])
            return await self.agent(trace, i)

        return list(await asyncio.gather(*(staggered(i, t) for i, t in enumerate(traces))))


def summarize(turns: list[dict], jcts: list[float], preparations: int) -> dict:
    commit = [t["ttft_s"] for t in turns if t["commit"]]
    # cold first turns are neither commit nor ordinary turns
    ordinary = [t["ttft_s"] for t in turns if not t["commit"] and t["step"] > 0]
    gaps = [g for t in turns for g in t.get("gaps_s", ())]
    outcomes: dict[str, int] = {}
    for t in turns:
        if t["outcome"]:
            outcomes[t["outcome"]] = outcomes.get(t["outcome"], 0) + 1
    prompt = sum(t["prompt"] for t in turns)
    used = sum(n for k, n in outcomes.items() if k in READY)

    def uncached(kind_commit: bool):
        return pct([(t["prompt"] - t["cached"]) / 1000 for t in turns
                    if t["commit"] == kind_commit and t["step"] > 0], 0.5)
    return {"commit_ttft_p50_ms": pct(commit, 0.5), "commit_ttft_p99_ms": pct(commit, 0.99),
            "ordinary_ttft_p50_ms": pct(ordinary, 0.5),
            "ordinary_ttft_p99_ms": pct(ordinary, 0.99),
            "tbt_p50_ms": pct(gaps, 0.5), "tbt_p99_ms": pct(gaps, 0.99),
            # streamed content chunks (one per decode step: speculation sends a step's tokens
            # together), for tokens per step
            "stream_chunks": sum(len(t.get("gaps_s", ())) + 1 for t in turns),
            "jct_mean_s": round(statistics.mean(jcts), 2), "commits": len(commit),
            "commit_outcomes": outcomes,
            # ready: prepared before the commit came; used: ready or promoted (the commit waited
            # for the rest of its preparation, then used it)
            "commits_ready_share": round(outcomes.get("ready", 0) / len(commit), 3)
            if commit else None,
            "commits_used_share": round(used / len(commit), 3) if commit else None,
            # prompt tokens a turn prefilled (p50): a commit whose preparation was used
            # prefills what arrived after its snapshot, like an ordinary turn
            "commit_uncached_tokens_p50": uncached(True),
            "ordinary_uncached_tokens_p50": uncached(False),
            "preparations": preparations,
            "wasted_preparations": max(0, preparations - used),
            "prefix_hit_rate": round(sum(t["cached"] for t in turns) / prompt, 3) if prompt else 0,
            "hooks_ms_mean": round(statistics.mean(t.get("hooks_s", 0.0) for t in turns) * 1e3, 1)
            if turns else None}


def server_stats(url: str) -> dict:
    """Scheduler counters of an agentrt server ({} for plain SGLang)."""
    try:
        resp = httpx.get(f"{url}/agentrt/scheduler", timeout=30)
    except httpx.HTTPError:
        return {}
    if resp.status_code != 200:
        return {}
    body = resp.json()
    ledger = body.get("ledger") or {}
    flat = {f"prefilled_{k}": v for k, v in ledger.get("prefilled", {}).items()}
    flat.update({f"wasted_{k}": v for k, v in ledger.get("wasted", {}).items()})
    return {**body.get("stats", {}), **flat, "waste_events": ledger.get("waste_events") or []}


def stats_delta(before: dict, after: dict, wall_s: float) -> dict:
    """Background tokens, scheduler counters and busy / idle time of one replay (the server's
    counters after it, less what warm-up left in them)."""
    if not after:
        return {}

    def diff(key):
        return None if after.get(key) is None else \
            round(after[key] - before.get(key, 0), 3)
    busy = diff("busy_s")
    ledger = {kind: {k[len(kind) + 1:]: diff(k) for k in after if k.startswith(kind + "_")}
              for kind in ("prefilled", "wasted")}
    return {"background_tokens": diff("lookahead_tokens_prefilled"),
            "ledger": ledger if ledger["prefilled"] else None,    # by purpose (radix/ledger.py)
            "prefilled_tokens": sum(ledger["prefilled"].values()) if ledger["prefilled"] else None,
            "wasted_tokens": sum(ledger["wasted"].values()) if ledger["wasted"] else None,
            # what each waste was (branch, its states, the transition that ended it)
            "waste_events": [e for e in after.get("waste_events", [])
                             if e not in before.get("waste_events", [])],
            # the longest prefill steps requests decoding waited on (TBT's tail: stalls.py)
            "longest_stalls": [s for s in after.get("longest_stalls", [])
                               if s not in before.get("longest_stalls", [])],
            "bg_preempted": diff("bg_preempted"), "bg_throttled": diff("bg_throttled"),
            "bg_denied": diff("bg_denied"),
            "bg_denied_reasons": _counts_delta(before.get("bg_denied_reasons") or {},
                                               after.get("bg_denied_reasons") or {}),
            "wall_s": round(wall_s, 2), "busy_s": busy,
            "busy_share": None if busy is None or wall_s <= 0 else round(busy / wall_s, 3),
            # the server's idle time: what background work could use without delaying anyone
            "idle_s": None if busy is None else round(max(0.0, wall_s - busy), 2),
            "lookahead_busy_s": diff("lookahead_busy_s")}


def _counts_delta(before: dict, after: dict) -> dict:
    """Per-key growth of a counter dict (keys that did not grow left out)."""
    return {k: n - before.get(k, 0) for k, n in after.items() if n > before.get(k, 0)}


def replay(system: System, model, traces, args, counter, label: str,
           offsets: list[float] | None = None) -> dict:
    """A fresh server for ``system``, every agent replayed (agent i starting ``offsets[i]`` s
    after the first; default ``i x --arrival-s``), the summary with per-turn data and the
    machine's speed just before the server started (drift.py)."""
    gflops = machine_gflops()
    with ManagedServer(list(system.args) + ["--model-path", str(model)], module=system.module,
                       env={"SGLANG_USE_CPU_ENGINE": "1"}) as srv, \
            turn_bar(label, total=sum(len(t.steps) for t in traces)) as bar:
        lead = None if args.lead_segments < 0 else args.lead_segments
        promote = None if args.promote_segments < 0 else args.promote_segments
        budget = ContextBudget(args.budget, lead_segments=lead, promote_segments=promote)
        rep = Replay(srv.url, system, budget, counter, tokenizer_counter(model), args.gen_tokens,
                     f"/tmp/agentrt-bench-offload-{label}", bar)
        before = server_stats(srv.url)
        start = time.perf_counter()
        if offsets is None:
            offsets = [i * args.arrival_s for i in range(len(traces))]
        jcts = asyncio.run(rep.run(traces, offsets))
        stats = stats_delta(before, server_stats(srv.url), time.perf_counter() - start)
    record = {**summarize(rep.turns, jcts, rep.preparations), **stats,
              "machine_gflops": gflops, "deferred_starts": rep.deferred_starts,
              "ends_first": rep.ends_first,
              "start_decisions": rep.start_decisions, "commit_records": rep.commits,
              "turns": turn_records(rep.turns), "began_unix": round(rep.began_unix, 3)}
    return {**record, "tbt_tail": gap_causes(record)}


def chat_template_counter(model):
    """Tokens of a message list with the served chat template (what the budget counts)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    lock = threading.Lock()          # one tokenizer, one encode at a time

    def count_now(messages):
        with lock:
            text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
            return len(tok.encode(text, add_special_tokens=False))
    return count_now


def message_counter(model):
    """``chat_template_counter`` off the event loop."""
    count_now = chat_template_counter(model)

    async def count(messages):
        # off the event loop: a 6k-token encode would stall every agent's stream reader and
        # show up as a client-side gap between tokens
        return await asyncio.to_thread(count_now, messages)
    return count


def base_record(args, n_agents: int) -> dict:
    return {"workload": args.workload, "n_agents": n_agents, "steps": args.steps,
            "budget": args.budget, "gen_tokens": args.gen_tokens,
            "lead_segments": args.lead_segments, "promote_segments": args.promote_segments,
            "model": "SmolLM2-135M-Instruct", "seed": args.seed, "quick": args.quick,
            "agentrt_flags": list(args.agentrt_flags)}


def run_systems(args, model, counter) -> int:
    traces = load_workload(args.workload, args.agents, args.seed, steps=args.steps,
                           count_tokens=tokenizer_counter(model))
    results = []
    for name in (args.systems or ",".join(DEFAULT)).split(","):
        summary = replay(with_agentrt_flags(SYSTEMS[name], args.agentrt_flags), model, traces,
                         args, counter, name)
        record = {"system": name, **base_record(args, args.agents), **summary}
        append_result("agent_replay", record)
        results.append(record)
    keys = ["commit_ttft_p50_ms", "commit_ttft_p99_ms", "ordinary_ttft_p50_ms",
            "ordinary_ttft_p99_ms", "tbt_p99_ms", "jct_mean_s", "commits", "commits_ready_share",
            "commits_used_share", "commit_uncached_tokens_p50", "ordinary_uncached_tokens_p50",
            "background_tokens", "lookahead_busy_s", "idle_s", "prefix_hit_rate"]
    print(table(["metric"] + [r["system"] for r in results],
                [[k] + [r.get(k) for r in results] for k in keys]))
    png, md = write_report(results, args.workload,
                           trace_stats=trace_stats(traces, tokenizer_counter(model)))
    print(f"report: {md}\nplot: {png}")
    for line in check_targets(results):
        print(line)
    return 0


def run_regime(args, model, counter) -> int:
    """Every system of the regime on the same desynchronized traces (the idle regime calibrated
    first, ``--repeats`` in ABBA order: drift.py); regime table + targets."""
    cfg = regime_settings(args.regime, args.quick, args.budget, agents=args.agents,
                          tool_scale=args.tool_scale, workload=args.workload)
    names = args.systems.split(",") if args.systems else list(cfg.systems)
    run = RegimeRun(args, model, counter, cfg)
    if cfg.regime == "idle" and args.tool_scale is None and "ttl_only" in names:
        names = ["ttl_only"] + [n for n in names if n != "ttl_only"]
        run.calibrate()
    for repeat in range(args.repeats):
        for name in run_order(names, repeat):
            if repeat > 0 or name not in run.records:     # (calibrate ran repeat 0's ttl_only)
                run.system(name, repeat)
    results = [combine(run.records[name]) for name in names]
    print(f"regime {cfg.regime}: {args.workload}, N = {cfg.agents}, tool scale "
          f"{run.scale}, KV pool {run.extra['max_total_tokens']} tokens, starts "
          f"{run.extra['start_offsets_s']} s, {args.repeats} repeat(s)")
    print(table(REGIME_HEADERS, regime_rows(results)))
    print(target_table(regime_verdicts(cfg.regime, results)))
    command = "python -m benchmark.agent_replay.run " + shlex.join(args.argv)
    png, md = write_regime_report(results, cfg.regime, args.workload, command)
    print(f"report: {md}\nplot: {png}")
    return 0


class RegimeRun:
    """One regime run's replays: the traces at the current tool scale, each system's records
    (one per repeat, each also a line of agent_replay.jsonl tagged with the run's start)."""

    def __init__(self, args, model, counter, cfg):
        self.args, self.model, self.counter, self.cfg = args, model, counter, cfg
        self.run_id = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        self.records: dict[str, list[dict]] = {}
        self.calibrations: list[dict] = []      # (tool scale, ttl_only busy share) tried first
        self.rescale(cfg.tool_scale)
        self.job_lengths = None if args.job_history == "none" else other_job_lengths(
            args.workload, self.traces, tokenizer_counter(model), chat_template_counter(model))
        self.extra["job_history"] = None if self.job_lengths is None else len(self.job_lengths)

    def rescale(self, scale: float) -> None:
        self.scale = scale
        self.traces = regime_traces(self.args.workload, self.cfg.agents, self.args.seed,
                                    self.args.steps, scale, tokenizer_counter(self.model))
        offsets = start_offsets(self.traces)
        self.extra = {"regime": self.cfg.regime, "tool_scale": scale, "start_offsets_s": offsets,
                      "max_total_tokens": self.cfg.max_total_tokens or 65536,
                      "run": self.run_id, "repeats": self.args.repeats}

    def system(self, name: str, repeat: int) -> dict:
        system = with_agentrt_flags(with_pool(SYSTEMS[name], self.cfg.max_total_tokens),
                                    tuple(self.args.agentrt_flags) + self.history_flags(name))
        summary = replay(system, self.model, self.traces, self.args, self.counter,
                         f"{name} ({self.cfg.regime})", self.extra["start_offsets_s"])
        record = {"system": name, **base_record(self.args, self.cfg.agents), **self.extra,
                  "repeat": repeat, "calibrations": self.calibrations, **summary}
        append_result("agent_replay", record)
        self.records.setdefault(name, []).append(record)
        return record

    def history_flags(self, name: str) -> tuple[str, ...]:
        """``--agentrt-job-history`` for an agentrt server (a fresh copy of the workload's
        other jobs for each replay, so a repeat does not learn from the one before; closes of
        the replay's own agents are appended as a server would): traces/population.py."""
        if self.job_lengths is None or SYSTEMS[name].module != "agentrt.launch_server":
            return ()
        path = f"/tmp/agentrt-bench-jobs-{self.run_id}-{name}.jsonl"
        write_history(path, self.job_lengths)
        return ("--agentrt-job-history", path)

    def calibrate(self) -> None:
        """ttl_only at the regime's scale; while its busy share is outside the setting's range,
        re-scale the tools from it (``calibrated_scale``) and run it again. The last ttl_only
        replay is repeat 0's."""
        for _ in range(CALIBRATIONS):
            record = self.system("ttl_only", 0)
            share = busy_share(record)
            if share is None or BUSY_RANGE[0] <= share <= BUSY_RANGE[1]:
                return
            self.records.pop("ttl_only")
            self.calibrations.append({"tool_scale": self.scale, "busy_share": share})
            scale = calibrated_scale(self.scale, record["busy_s"], record["wall_s"],
                                     tool_path_s(self.traces, self.extra["start_offsets_s"]))
            print(f"calibration: ttl_only busy {share} at tool scale {self.scale}: "
                  f"running again at {scale}")
            self.rescale(scale)
        self.system("ttl_only", 0)


def run_interference(args, model, counter) -> int:
    rows = []
    for n in [int(x) for x in args.interference.split(",")]:
        traces = load_workload(args.workload, n, args.seed, steps=args.steps,
                               count_tokens=tokenizer_counter(model))
        pair = {}
        for system in (with_agentrt_flags(s, args.agentrt_flags)
                       for s in (SYSTEMS["agentrt"], BG_OFF)):
            summary = replay(system, model, traces, args, counter, f"{system.name} N={n}")
            summary.pop("turns")
            summary.pop("commit_records")
            pair[system.name] = {"system": system.name, **base_record(args, n), **summary}
        rows.append(pair)
    path, md = write_interference(rows)
    print(table(*interference_rows(rows)))
    print(f"results: {path}\nreport: {md}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="2 agents, 10 steps, 1,800-token budget (under 5 minutes)")
    ap.add_argument("--workload", default="miniagent", choices=sorted(WORKLOADS))
    ap.add_argument("--agents", type=int, default=None,
                    help="agents (default 4; quick 2; a regime's own count with --regime)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--budget", type=int, default=6000,
                    help="context budget in tokens (commits happen at ~6k-token contexts)")
    ap.add_argument("--lead-segments", type=int, default=-1,
                    help="start a preparation when the hard threshold is predicted within this "
                         "many segments (-1: at the soft threshold, as SmoothAgent)")
    ap.add_argument("--promote-segments", type=int, default=-1,
                    help="promote a running preparation when the hard threshold is predicted "
                         "within this many segments (-1: only when the commit finds it running)")
    ap.add_argument("--gen-tokens", type=int, default=8, help="tokens generated per turn")
    ap.add_argument("--arrival-s", type=float, default=1.0, help="seconds between agent arrivals")
    ap.add_argument("--systems", default=None,
                    help=f"comma-separated (default: {','.join(DEFAULT)}; with --regime "
                         "vanilla,ttl_only,kernel_only,agentrt; opt-in: server_edit, "
                         "server_edit_sync, the openai-SDK agents of sdk_agent.py)")
    ap.add_argument("--regime", default=None, choices=sorted(REGIMES),
                    help="step 10's regimes (regimes.py): idle (tools scaled, server 40-60 %% "
                         "busy), saturated (tools as drawn), memory (KV pool of 1.5 contexts)")
    ap.add_argument("--tool-scale", type=float, default=None,
                    help="with --regime: multiply every tool duration by this (default: the "
                         "regime's own factor)")
    ap.add_argument("--repeats", type=int, default=1,
                    help="with --regime: run the systems this many times in ABBA order and "
                         "report each one's mean (drift.py: the machine's speed drifts)")
    ap.add_argument("--interference", default="",
                    help="comma-separated agent counts: run the lookahead-on/off interference "
                         "benchmark instead (e.g. 1,2,4,8)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--job-history", default="others", choices=["others", "none"],
                    help="with --regime: agentrt's server starts knowing the lengths of the "
                         "workload's other jobs (others; real traces only: "
                         "traces/population.py) or none")
    ap.add_argument("--agentrt-flags", default="", type=shlex.split,
                    help="agentrt server flags added to every system agentrt serves (e.g. "
                         "\"--agentrt-fg-max-chunk-ms 500\"); plain SGLang systems unchanged")
    args = ap.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    # a SIGTERM (timeout, kill) unwinds like Ctrl-C: every server's context manager stops it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.quick:
        args.steps, args.budget = 10, 1800
        if args.agents is None and not args.regime:
            args.agents = 2
    if args.agents is None and not args.regime:
        args.agents = 4
    unknown = set((args.systems or "").split(",")) - set(SYSTEMS) - {""}
    if unknown:
        ap.error(f"unknown systems {sorted(unknown)}; known: {', '.join(SYSTEMS)}")
    model = prepare_default_model()
    counter = message_counter(model)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.interference:
        return run_interference(args, model, counter)
    if args.regime:
        return run_regime(args, model, counter)
    return run_systems(args, model, counter)


if __name__ == "__main__":
    sys.exit(main())
