"""Replay of nemo-gym trajectories with server-side context editing, ``openai`` SDK only.

    python -m benchmark.editing.replay [--agents 4] [--steps N] [--seed 0] [--url URL]
        [--model-path DIR] [--trigger 3000] [--keep 2] [--clear-at-least 1000]
        [--gen-tokens 8] [--idle-factor 3] [--soft 0.8] [--systems a,b,c,d] [--no-write]
        [--results-dir DIR] [--report]

Each agent (``load_workload("nemo_gym", ...)``) sends its full, unedited history every turn
(history.py) through ``openai.OpenAI(base_url=...)``; the only agentrt-specific thing the client
does is put ``session_id`` and ``context_management`` in ``extra_body``. Four systems on the
same server, the cache flushed before each: ``unedited`` (no ``context_management``: the
baseline), ``server_edit`` (``clear_tool_uses_20250919`` with the given trigger / keep /
clear_at_least and ``lookahead: false``: applied synchronously by the server at the turn it
triggers), ``server_lookahead`` (the same edit, ``lookahead: {"fraction": soft}``: the server
prepares it from the soft trigger and serves the trigger turn from the prepared branch) and
``client_lookahead`` (client_side.py: the same agents and edit driven by agentrt's client-side
``LookaheadRuntime``: ``ClearToolResults(keep_last=keep)``, hard threshold = trigger, soft =
soft x trigger, counted in the server edit's input tokens, so it commits at the turn the server
edit triggers; a commit turn is an edit turn). Agents run one after the other (a turn's TTFT is
its own prefill). Idle-capacity regime: in ``server_lookahead`` and ``client_lookahead`` the
client waits ``idle_factor`` x each turn's own wall time after it (the tool's time; the server is
idle 1 - 1 / (1 + idle_factor) of the agent's time, 75 % at 3): the time in which the server or
the runtime prepares. The two other systems have no background work, so their TTFTs do not
depend on tool time: they run without it.

Per turn: TTFT, prompt and cached tokens, the edit report and the kind (turns.py). Per system:
TTFT p50 of ordinary and of edit turns (and their ratio: the spike an edit costs), prefilled
(uncached) tokens p50 of each (what that TTFT pays for, free of CPU noise), prefix hit rate
(cached / prompt tokens), prompt tokens sent to the model; edit turns served from a prepared
branch. ``targets`` compares ``server_lookahead``'s edit turns with its ordinary turns and with
``server_edit``'s edit turns (issue 17: <= 1.2x and >= 10x), and with ``client_lookahead``'s
commit turns (TTFT p50 ratio <= 1.2x; the prefilled tokens p50 of each beside it), each when its
systems ran. ``--report`` prints the last run's table again, recomputed from its recorded turns.
One JSON line per system in results/editing.jsonl (turns included), the table in
results/editing.md. Without ``--url`` a server is started (``agentrt serve``; the default model
unless ``--model-path``) and stopped.
"""
import argparse
import datetime
import json
import sys
import time
from pathlib import Path
from typing import Optional

import openai

from agentrt.client.flush import flush_cache
from benchmark.agent_replay.traces import load_workload
from benchmark.common import RESULTS, device, git_commit, table
from benchmark.editing import client_side
from benchmark.editing.history import history_at
from benchmark.editing.turns import classify, send_turn


SYSTEMS = ("unedited", "server_edit", "server_lookahead", client_side.NAME)
WITH_TOOL_TIME = ("server_lookahead", client_side.NAME)    # they prepare in the tool's time


def clear_tool_uses(trigger: int, keep: int, clear_at_least: int,
                    lookahead: Optional[float] = None) -> dict:
    """The edit; ``lookahead``: the soft fraction (None: ``lookahead: false``, synchronous)."""
    edit = {"type": "clear_tool_uses_20250919",
            "trigger": {"type": "input_tokens", "value": trigger},
            "keep": {"type": "tool_uses", "value": keep}}
    if clear_at_least:
        edit["clear_at_least"] = {"type": "input_tokens", "value": clear_at_least}
    return {"edits": [edit],
            "lookahead": {"fraction": lookahead} if lookahead is not None else False}


def system_config(system: str, args: argparse.Namespace) -> Optional[dict]:
    """The ``context_management`` a system sends (None: none; ``client_lookahead`` edits in
    the client)."""
    if system in ("unedited", client_side.NAME):
        return None
    return clear_tool_uses(args.trigger, args.keep, args.clear_at_least,
                           args.soft if system == "server_lookahead" else None)


def replay_agent(client: openai.OpenAI, trace, system: str, config: Optional[dict],
                 gen_tokens: int, idle_factor: float = 0.0) -> list[dict]:
    """The agent's turns in order; after each, ``idle_factor`` x its wall time of tool time."""
    session = f"{system}-{trace.agent_id}"
    turns = []
    for k in range(len(trace.steps)):
        start = time.perf_counter()
        turn = send_turn(client, history_at(trace, k), session, config, gen_tokens)
        turns.append({"agent": trace.agent_id, "step": k, **turn})
        if idle_factor > 0 and k + 1 < len(trace.steps):
            time.sleep(idle_factor * (time.perf_counter() - start))
    return classify(turns)


def _p50(values: list[float]) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def summarize(turns: list[dict]) -> dict:
    """The per-system metrics of the table (TTFT in ms)."""
    def p50(kind: str, key: str) -> Optional[float]:
        return _p50([t[key] if key in t else t["prompt"] - t["cached"]   # "uncached"
                     for t in turns if t["kind"] == kind])
    o50, e50 = p50("ordinary", "ttft_ms"), p50("edit", "ttft_ms")
    prompt = sum(t["prompt"] for t in turns)
    edits = [t for t in turns if t["kind"] == "edit"]
    return {"turns": len(turns), "edit_turns": len(edits),
            "prepared_edit_turns": sum(t.get("prepared") is True for t in edits),
            "ordinary_ttft_p50_ms": o50, "edit_ttft_p50_ms": e50,
            "edit_over_ordinary": round(e50 / o50, 2) if e50 and o50 else None,
            # prefilled (uncached) tokens: what the TTFT of a turn pays for, free of CPU noise
            "ordinary_uncached_p50": p50("ordinary", "uncached"),
            "edit_uncached_p50": p50("edit", "uncached"),
            "hit_rate": round(sum(t["cached"] for t in turns) / prompt, 3) if prompt else None,
            "prompt_tokens": prompt}


def run_system(url: str, traces, system: str, args: argparse.Namespace) -> dict:
    """One system's record, on a flushed cache; tool time only where it prepares."""
    flush_cache(url)
    config = system_config(system, args)
    idle_factor = args.idle_factor if system in WITH_TOOL_TIME else 0.0
    record = {"system": system, "context_management": config, "idle_factor": idle_factor}
    if system == client_side.NAME:
        turns = client_side.replay_agents(url, traces, args, idle_factor)
        record["client_runtime"] = client_side.describe(args)
    else:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", timeout=600,
                               max_retries=0)
        turns = [t for trace in traces for t in replay_agent(client, trace, system, config,
                                                               args.gen_tokens, idle_factor)]
    return {**record, **summarize(turns), "turns_detail": turns}


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return round(a / b, 2) if a and b else None


def same_turn_ratio(records: dict, system: str, over: str) -> Optional[float]:
    """p50 over ``system``'s edit turns of its TTFT / ``over``'s TTFT at the same (agent,
    step): the same new segment, so the ratio is what the edit costs, free of segment size."""
    if system not in records or over not in records:
        return None
    base = {(t["agent"], t["step"]): t["ttft_ms"] for t in records[over]["turns_detail"]}
    return _p50([round(t["ttft_ms"] / base[(t["agent"], t["step"])], 2)
                 for t in records[system]["turns_detail"]
                 if t["kind"] == "edit" and base.get((t["agent"], t["step"]))])


def targets(records: list[dict]) -> Optional[dict]:
    """Issue 17's targets that the run's systems allow (None: none): ``lookahead_targets`` and
    ``client_targets``."""
    by = {r["system"]: r for r in records}
    return {**lookahead_targets(by), **client_targets(by)} or None


def lookahead_targets(by: dict) -> dict:
    """From server_lookahead and server_edit ({} without both): lookahead edit-turn TTFT p50 /
    its ordinary p50 (<= 1.2), server_edit edit-turn TTFT p50 / lookahead edit-turn TTFT p50
    (>= 10), the same ratio in prefilled tokens, and the same-turn ratios
    (``same_turn_ratio``; vs ``unedited`` when it ran)."""
    ahead, sync = by.get("server_lookahead"), by.get("server_edit")
    if ahead is None or sync is None:
        return {}
    return {"edit_over_ordinary": ahead["edit_over_ordinary"],
            "sync_over_lookahead_ttft": _ratio(sync["edit_ttft_p50_ms"],
                                               ahead["edit_ttft_p50_ms"]),
            "sync_over_lookahead_prefill": _ratio(sync["edit_uncached_p50"],
                                                  ahead["edit_uncached_p50"]),
            "prepared_edit_turns": f"{ahead['prepared_edit_turns']} of {ahead['edit_turns']}",
            "lookahead_over_unedited_same_turn": same_turn_ratio(by, "server_lookahead",
                                                                 "unedited"),
            "sync_over_unedited_same_turn": same_turn_ratio(by, "server_edit", "unedited"),
            "sync_over_lookahead_same_turn": same_turn_ratio(by, "server_edit",
                                                             "server_lookahead")}


def client_targets(by: dict) -> dict:
    """From server_lookahead and client_lookahead ({} without both): the SDK replay's edit-turn
    TTFT p50 / the client-side runtime's commit-turn TTFT p50 (<= 1.2), the prefilled tokens
    p50 of each on those turns (free of CPU noise), the same-turn ratio and how many of
    server_lookahead's edit turns are commit turns of the client (the same turn: 'n of n')."""
    sdk, client = by.get("server_lookahead"), by.get(client_side.NAME)
    if sdk is None or client is None:
        return {}
    return {"sdk_over_client_ttft": _ratio(sdk["edit_ttft_p50_ms"], client["edit_ttft_p50_ms"]),
            "sdk_edit_ttft_p50_ms": sdk["edit_ttft_p50_ms"],
            "client_commit_ttft_p50_ms": client["edit_ttft_p50_ms"],
            "sdk_over_client_prefill": _ratio(sdk["edit_uncached_p50"],
                                              client["edit_uncached_p50"]),
            "sdk_edit_prefill_p50": sdk["edit_uncached_p50"],
            "client_commit_prefill_p50": client["edit_uncached_p50"],
            "sdk_over_client_same_turn": same_turn_ratio(by, "server_lookahead",
                                                         client_side.NAME),
            "commits_at_sdk_edit_turns": shared_edit_turns(by, "server_lookahead",
                                                           client_side.NAME)}


def shared_edit_turns(records: dict, system: str, other: str) -> str:
    """'n of m': of ``system``'s m edit turns, n are edit turns of ``other`` too."""
    def edits(name):
        return {(t["agent"], t["step"]) for t in records[name]["turns_detail"]
                if t["kind"] == "edit"}
    mine = edits(system)
    return f"{len(mine & edits(other))} of {len(mine)}"


def render_targets(found: Optional[dict]) -> str:
    """The targets as text: each part whose systems ran."""
    found = found or {}
    return render_lookahead(found) + render_client(found)


def render_lookahead(found: dict) -> str:
    if "edit_over_ordinary" not in found:
        return ""
    return ("\n\nTargets (server_lookahead): edit TTFT p50 / ordinary p50 = "
            f"{found['edit_over_ordinary']} (target <= 1.2); server_edit edit TTFT p50 / "
            f"server_lookahead edit TTFT p50 = {found['sync_over_lookahead_ttft']} (target >= "
            f"10; in prefilled tokens {found['sync_over_lookahead_prefill']}); edit turns served "
            f"from a prepared branch: {found['prepared_edit_turns']}.\n"
            "Same turn (same new segment), p50 over edit turns: server_lookahead / unedited "
            f"{found.get('lookahead_over_unedited_same_turn')}, server_edit / unedited "
            f"{found.get('sync_over_unedited_same_turn')}, server_edit / server_lookahead "
            f"{found.get('sync_over_lookahead_same_turn')}.\n")


def render_client(found: dict) -> str:
    """The SDK replay against the client-side runtime: one row per metric, p50 over
    server_lookahead's edit turns and client_lookahead's commit turns."""
    if "sdk_over_client_ttft" not in found:
        return ""
    rows = [["TTFT p50 ms", found["sdk_edit_ttft_p50_ms"], found["client_commit_ttft_p50_ms"],
             found["sdk_over_client_ttft"]],
            ["prefilled tokens p50", found["sdk_edit_prefill_p50"],
             found["client_commit_prefill_p50"], found["sdk_over_client_prefill"]]]
    return ("\n\nTarget (the OpenAI-SDK-only replay matches the client-side runtime's commit "
            "TTFT within 1.2x):\n\n"
            + table(["edit turns", "server_lookahead", "client_lookahead",
                     "server / client (target <= 1.2)"], rows)
            + f"\n\nCommit turns at server_lookahead's edit turns: "
            f"{found['commits_at_sdk_edit_turns']}; same turn, server_lookahead / "
            f"client_lookahead TTFT p50 {found['sdk_over_client_same_turn']}.\n")


COLUMNS = {"system": "system", "turns": "turns", "edit turns": "edit_turns",
           "prepared": "prepared_edit_turns",
           "ordinary TTFT p50 ms": "ordinary_ttft_p50_ms", "edit TTFT p50 ms": "edit_ttft_p50_ms",
           "edit / ordinary": "edit_over_ordinary",
           "ordinary prefill tok p50": "ordinary_uncached_p50",
           "edit prefill tok p50": "edit_uncached_p50", "hit rate": "hit_rate",
           "prompt tokens": "prompt_tokens"}


def render_table(records: list[dict]) -> str:
    return table(list(COLUMNS), [[r.get(key) for key in COLUMNS.values()] for r in records])


def latest_records(results_dir: Path) -> list[dict]:
    """The last run's lines of editing.jsonl, summarized again from their recorded turns."""
    lines = [json.loads(line) for line in
             (results_dir / "editing.jsonl").read_text().splitlines() if line.strip()]
    last = [r for r in lines if r["time"] == lines[-1]["time"]]
    return [{**r, **summarize(r["turns_detail"])} for r in last]


def write_results(records: list[dict], results_dir: Path, meta: dict) -> None:
    """One JSON line per system in editing.jsonl; the table in editing.md."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
             "commit": git_commit(), "device": device(), "benchmark": "editing", **meta}
    with open(results_dir / "editing.jsonl", "a") as fh:
        for record in records:
            fh.write(json.dumps({**stamp, **record}) + "\n")
    header = ", ".join(f"{k} {v}" for k, v in meta.items() if k != "context_management")
    (results_dir / "editing.md").write_text(f"Run of {stamp['commit']} ({header}):\n\n"
                                            + render_table(records) + "\n"
                                            + render_targets(targets(records)))


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmark.editing.replay",
                                description=__doc__.split("\n")[0])
    p.add_argument("--agents", type=int, default=4)
    p.add_argument("--steps", type=int, default=None, help="at most this many turns per agent")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--min-tokens", type=int, default=None,
                   help="smallest unedited context of a chosen agent (workload default)")
    p.add_argument("--url", default=None, help="a running agentrt server (else one is started)")
    p.add_argument("--model-path", default=None,
                   help="model of the started server (and client_lookahead's tokenizer)")
    p.add_argument("--trigger", type=int, default=3000, help="input tokens that trigger a clear")
    p.add_argument("--keep", type=int, default=2, help="most recent tool uses kept")
    p.add_argument("--clear-at-least", type=int, default=1000)
    p.add_argument("--gen-tokens", type=int, default=8)
    p.add_argument("--idle-factor", type=float, default=3.0,
                   help="server_lookahead, client_lookahead: tool time = this x each "
                        "turn's wall time")
    p.add_argument("--soft", type=float, default=0.8,
                   help="server_lookahead's soft fraction (client_lookahead's soft threshold)")
    p.add_argument("--systems", default=",".join(SYSTEMS),
                   help="comma-separated subset of " + ", ".join(SYSTEMS))
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--results-dir", type=Path, default=RESULTS)
    p.add_argument("--report", action="store_true",
                   help="no replay: print the last recorded run's table (recomputed)")
    return p.parse_args(argv)


def replay(url: str, args: argparse.Namespace) -> list[dict]:
    traces = load_workload("nemo_gym", args.agents, args.seed, steps=args.steps,
                           min_tokens=args.min_tokens)
    systems = [s for s in args.systems.split(",") if s]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        raise SystemExit(f"unknown systems {sorted(unknown)}; known: {', '.join(SYSTEMS)}")
    return [run_system(url, traces, system, args) for system in systems]


def main(argv: Optional[list[str]] = None) -> list[dict]:
    args = parse_args(argv)
    if args.report:
        records = latest_records(args.results_dir)
        print(render_table(records) + render_targets(targets(records)))
        return records
    if args.url:
        records = replay(args.url, args)
    else:
        from agentrt.client.managed_server import ManagedServer

        extra = ["--model-path", args.model_path] if args.model_path else []
        with ManagedServer(extra) as server:
            records = replay(server.url, args)
    print(render_table(records) + render_targets(targets(records)))
    if not args.no_write:
        meta = {"model": args.model_path or "default", "workload": "nemo_gym",
                "agents": args.agents, "steps": args.steps, "seed": args.seed,
                "gen_tokens": args.gen_tokens, "idle_factor": args.idle_factor,
                "soft": args.soft,
                "context_management": clear_tool_uses(args.trigger, args.keep,
                                                      args.clear_at_least, args.soft)}
        write_results(records, args.results_dir, meta)
    return records


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
