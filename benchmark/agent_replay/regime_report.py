"""The report of one regime run: systems side by side with their work, then the target table.

    write_regime_report(records, "idle", "miniagent")  ->  results/miniagent_idle.md (+ .png)
    python -m benchmark.agent_replay.regime_report --regime idle [--workload miniagent] [--full]
        # rebuilds the report of that regime's latest run from results/agent_replay.jsonl
    python -m benchmark.agent_replay.regime_report --regime idle --workload nemo_gym \
        --runs 2026-12-04T12:22:45,2026-12-04T13:10:05    # several runs pooled (_pooled.md)

Rows: commit TTFT p50, ordinary TTFT p50 / p99, TBT p99 (ms), JCT (s), prefilled / background /
wasted tokens (``work.work_of``: the server's ledger, or per-turn prompt - cached where the
server keeps none: marked ``*``), the server's busy share, commit outcomes, the machine's speed.
"""
import argparse
import json
import sys
from pathlib import Path

from benchmark.agent_replay.drift import combine
from benchmark.agent_replay.report import plot_ttft
from benchmark.agent_replay.targets import busy_share, regime_verdicts, target_table
from benchmark.agent_replay.work import work_of
from benchmark.common import RESULTS, table

HEADERS = ["system", "commit p50", "ordinary p50", "ordinary p99", "TBT p99", "JCT s",
           "prefilled", "background", "wasted", "busy share", "commit outcomes", "GFLOP/s"]


def _cell(value) -> str:
    return "—" if value is None else str(value)


def outcomes_text(record: dict) -> str:
    """``ready 3, promoted 1, deferred 2`` (counts by outcome, most first), or ``—``."""
    out = record.get("commit_outcomes") or {}
    return ", ".join(f"{k} {n}" for k, n in sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))) \
        or "—"


def regime_rows(records: list[dict]) -> list[list[str]]:
    rows = []
    for r in records:
        w = work_of(r)
        mark = "" if w.source == "ledger" else "*"
        rows.append([r["system"], _cell(r.get("commit_ttft_p50_ms")),
                     _cell(r.get("ordinary_ttft_p50_ms")), _cell(r.get("ordinary_ttft_p99_ms")),
                     _cell(r.get("tbt_p99_ms")), _cell(r.get("jct_mean_s")),
                     f"{_cell(w.prefilled)}{mark}", str(w.background), str(w.wasted),
                     _cell(busy_share(r)), outcomes_text(r), _cell(r.get("machine_gflops"))])
    return rows


def regime_markdown(records: list[dict], regime: str, workload: str, png_name: str,
                    command: str = "") -> str:
    first = records[0]
    setup = ", ".join(f"{k} {first[k]}" for k in (
        "n_agents", "steps", "budget", "tool_scale", "max_total_tokens", "start_offsets_s",
        "quick", "model", "seed", "commit", "run", "device", "time", "repeats", "calibrations")
        if k in first)
    lines = [f"# agent_replay: {workload}, regime {regime}", "", setup, ""]
    if command:
        lines += ["```", command, "```", ""]
    lines += [table(HEADERS, regime_rows(records)), "",
              "TTFT / TBT in ms; JCT = mean job completion time per agent; prefilled = every "
              "token the server prefilled (its ledger; `*`: no ledger, the sum over turns of "
              "prompt - cached); background = branch prepare + catch-up; busy share = model-step "
              "time / wall time (agentrt servers); GFLOP/s = the machine's speed before the system's "
              "server started (drift.py); with repeats, run in ABBA order, a percentile is taken "
              "over all the system's turns pooled (percentiles.py; each repeat's own below) and "
              "every other number is the mean of its repeats.", "",
              "Targets:", "", target_table(regime_verdicts(regime, records)), "",
              f"![TTFT per turn]({png_name})", ""]
    for r in records:
        if r.get("ledger"):
            lines.append(f"- {r['system']} ledger: {json.dumps(r['ledger'])}")
    for r in records:
        if r.get("repeat_percentiles"):
            lines.append(f"- {r['system']} per repeat: {json.dumps(r['repeat_percentiles'])}")
    for r in records:
        if r.get("tbt_tail"):
            lines += ["", f"{r['system']}: the longest token gaps and the steps that held them "
                          "(stall_report.py):", ""] + [f"- {line}" for line in r["tbt_tail"]]
    return "\n".join(lines) + "\n"


def write_regime_report(records: list[dict], regime: str, workload: str, command: str = "",
                        results_dir: Path = RESULTS, suffix: str = "") -> tuple[Path, Path]:
    """``<workload>_<regime><suffix>.md`` and its ``_ttft.png``; returns their paths."""
    stem = f"{workload}_{regime}{suffix}"
    png = plot_ttft(records, Path(results_dir) / f"{stem}_ttft.png")
    md = Path(results_dir) / f"{stem}.md"
    md.write_text(regime_markdown(records, regime, workload, png.name, command))
    return png, md


def latest_run(records: list[dict], regime: str, workload: str, quick: bool) -> list[dict]:
    """The latest run of ``regime`` on ``workload``, a record per system (its repeats combined,
    drift.py). Records tagged with a ``run`` belong to it (a system's repeat replayed twice, as
    calibration does: the last); untagged ones to a run that starts at vanilla or at its first
    system, its records consecutive."""
    runs: list[list[dict]] = []
    for r in records:
        if (r.get("regime"), r.get("workload"), bool(r.get("quick"))) != (regime, workload, quick):
            continue
        if r.get("run") is not None:
            new = not runs or runs[-1][0].get("run") != r["run"]
        else:
            new = not runs or r["system"] == "vanilla" or \
                r["system"] in {x["system"] for x in runs[-1]}
        if new:
            runs.append([])
        runs[-1].append(r)
    if not runs:
        return []
    by: dict[str, dict] = {}
    for r in runs[-1]:
        by.setdefault(r["system"], {})[r.get("repeat", 0)] = r
    return [combine([reps[k] for k in sorted(reps)]) for reps in by.values()]


def pooled_runs(records: list[dict], regime: str, workload: str, runs: list[str]) -> list[dict]:
    """The runs tagged ``runs`` (their ``run`` field) of ``regime`` on ``workload`` as one: a
    record per system, every repeat of every run combined (drift.py: percentiles over all their
    turns pooled). Several runs on other seeds (other traces, other phases) sample what one
    run's fixed schedule cannot: which prompts land on which decoding turns. A system's repeat
    replayed twice in one run counts once (the last, as in ``latest_run``)."""
    wanted = set(runs)
    by: dict[str, dict] = {}
    for r in records:
        if (r.get("regime"), r.get("workload")) == (regime, workload) and r.get("run") in wanted:
            by.setdefault(r["system"], {})[(r["run"], r.get("repeat", 0))] = r
    out = []
    for reps in by.values():
        pooled = combine([reps[k] for k in sorted(reps)])
        for key in ("run", "seed", "commit", "tool_scale"):     # what differs between the runs
            pooled[key] = sorted({reps[k].get(key) for k in reps}, key=str)
        out.append(pooled)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regime", required=True)
    ap.add_argument("--workload", default="miniagent")
    ap.add_argument("--full", action="store_true", help="the latest full run (default: quick)")
    ap.add_argument("--runs", default="",
                    help="comma-separated run tags to pool (default: the latest run)")
    ap.add_argument("--results", default=str(RESULTS / "agent_replay.jsonl"))
    args = ap.parse_args(argv)
    records = [json.loads(line) for line in Path(args.results).read_text().splitlines() if line]
    runs = [r for r in args.runs.split(",") if r]
    if runs:
        run = pooled_runs(records, args.regime, args.workload, runs)
        cmd = "python -m benchmark.agent_replay.regime_report " + " ".join(argv or sys.argv[1:])
    else:
        run = latest_run(records, args.regime, args.workload, not args.full)
        cmd = "python -m benchmark.agent_replay.run --regime " + args.regime + \
            ("" if args.full else " --quick")
    if not run:
        print(f"no {args.regime} run of {args.workload} in {args.results}", file=sys.stderr)
        return 1
    for path in write_regime_report(run, args.regime, args.workload, cmd,
                                    Path(args.results).parent, "_pooled" if runs else ""):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
