"""The benchmark report of one run: a TTFT-per-turn figure and a markdown table, side by side.

    write_report(records, "nemo_gym")  ->  results/nemo_gym_ttft.png, results/nemo_gym.md
    python -m benchmark.agent_replay.report [--workload NAME]   # latest run in the .jsonl

``records`` are the result dicts run.py appends (one per system per run). Optional fields used
when present (the report is still written without them):

| field              | meaning                                                                  |
|--------------------|--------------------------------------------------------------------------|
| turns              | [{agent, step, kind: commit|ordinary, ttft_ms, outcome}] (`turn_records`) |
| background_tokens  | tokens the server prefilled for background (lookahead) work              |

A turn also keeps, when run.py measured them, ``sent_s`` and ``first_s``: when its request was
sent and its first token came, in seconds after the replay began (which turns a commit queued
behind), and ``gaps_ms``, the gaps between its streamed chunks (TBT: pooled over repeats,
percentiles.py; what stalled the longest ones: stall_report.py).

Ratios are vanilla / system (above 1: the system is faster than plain SGLang).
"""
import argparse
import json
import sys
from pathlib import Path

from benchmark.agent_replay.targets import check_targets
from benchmark.common import RESULTS, table

HEADERS = ["system", "commit p50 ms", "commit p99 ms", "ordinary p50 ms", "ordinary p99 ms",
           "JCT s", "background tokens", "prefix hit", "commits ready/promoted/sync",
           "commit p50 vs vanilla", "JCT vs vanilla"]
FAST_OUTCOMES = ("ready", "promoted")
OUTCOME_COLORS = {"ready": "seagreen", "promoted": "darkorange"}   # others (sync path): crimson


def turn_records(turns: list[dict]) -> list[dict]:
    """run.py's per-turn dicts (commit, outcome, ttft_s) in the compact form stored in records."""
    return [{"agent": t["agent"], "step": t["step"],
             "kind": "commit" if t.get("commit") else "ordinary",
             "ttft_ms": round(t["ttft_s"] * 1000, 1), "outcome": t.get("outcome"),
             "prompt": t.get("prompt"), "cached": t.get("cached"),
             **({"reason": t["reason"]} if t.get("reason") else {}),
             **({"sent_s": round(t["sent_s"], 2)} if t.get("sent_s") is not None else {}),
             **({"first_s": round(t["first_s"], 3)} if t.get("first_s") is not None else {}),
             **({"gaps_ms": [round(g * 1000, 1) for g in t["gaps_s"]]} if "gaps_s" in t else {})}
            for t in turns]


def latest_per_system(records: list[dict], workload: str | None = None) -> list[dict]:
    """The last record of each system (for ``workload`` when given), systems in first-seen order."""
    latest: dict[str, dict] = {}
    for r in records:
        if workload is None or r.get("workload", "miniagent") == workload:
            latest[r["system"]] = r            # keeps the first-seen position, takes the last value
    return list(latest.values())


def _ms(value) -> str:
    return "—" if value is None else f"{value:.0f}"


def _ratio(base, value) -> str:
    return "—" if not base or not value else f"{base / value:.2f}x"


def commit_counts(record: dict) -> str:
    out = record.get("commit_outcomes") or {}
    slow = sum(n for k, n in out.items() if k not in FAST_OUTCOMES)
    return f"{record.get('commits', sum(out.values()))} ({out.get('ready', 0)}/" \
           f"{out.get('promoted', 0)}/{slow})"


def summary_rows(records: list[dict]) -> list[list[str]]:
    base = next((r for r in records if r["system"] == "vanilla"), None)
    rows = []
    for r in records:
        bg = r.get("background_tokens")
        rows.append([r["system"], _ms(r.get("commit_ttft_p50_ms")),
                     _ms(r.get("commit_ttft_p99_ms")), _ms(r.get("ordinary_ttft_p50_ms")),
                     _ms(r.get("ordinary_ttft_p99_ms")), f"{r['jct_mean_s']:.2f}",
                     "—" if bg is None else str(bg), f"{r.get('prefix_hit_rate', 0):.3f}",
                     commit_counts(r),
                     _ratio(base and base.get("commit_ttft_p50_ms"), r.get("commit_ttft_p50_ms")),
                     _ratio(base and base.get("jct_mean_s"), r.get("jct_mean_s"))])
    return rows


def plot_ttft(records: list[dict], path: Path) -> Path:
    """One figure, one panel per system: TTFT of every turn by step, a line per agent, commit
    turns marked. A record without ``turns`` shows its p50 / p99 as horizontal lines."""
    import matplotlib

    matplotlib.use("Agg")                 # files only, no display; before pyplot is imported
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(records), figsize=(4.2 * len(records), 3.6), sharey=True,
                             squeeze=False)
    for ax, r in zip(axes[0], records, strict=True):
        turns = r.get("turns") or []
        agents = sorted({t["agent"] for t in turns})
        for agent in agents:
            mine = sorted((t for t in turns if t["agent"] == agent), key=lambda t: t["step"])
            ax.plot([t["step"] for t in mine], [t["ttft_ms"] for t in mine], lw=1, alpha=0.7,
                    marker=".", label=agent)
        for outcome in sorted({str(t.get("outcome")) for t in turns if t["kind"] == "commit"}):
            commits = [t for t in turns if t["kind"] == "commit" and str(t.get("outcome")) == outcome]
            ax.scatter([t["step"] for t in commits], [t["ttft_ms"] for t in commits], marker="X",
                       s=70, zorder=3, color=OUTCOME_COLORS.get(outcome, "crimson"),
                       label=f"commit: {outcome}")
        if not turns:
            for key, style in (("ordinary_ttft_p50_ms", "-"), ("commit_ttft_p50_ms", "--"),
                               ("commit_ttft_p99_ms", ":")):
                if r.get(key) is not None:
                    ax.axhline(r[key], ls=style, color="gray", label=key.replace("_ms", ""))
            ax.text(0.5, 0.95, "no per-turn data", transform=ax.transAxes, ha="center",
                    va="top", fontsize=8)
        ax.set_title(r["system"])
        ax.set_xlabel("agent step")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("TTFT (ms)")
    fig.suptitle(f"TTFT per turn: {records[0].get('workload', '')}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def markdown(records: list[dict], workload: str, png_name: str,
             trace_stats: dict | None = None) -> str:
    first = records[0]
    setup = ", ".join(f"{k} {first[k]}" for k in ("n_agents", "steps", "budget", "model", "seed",
                                                  "commit", "device", "time") if k in first)
    lines = [f"# agent_replay: {workload}", "", setup, "",
             table(HEADERS, summary_rows(records)), "",
             ("TTFT in ms; JCT = mean job completion time per agent; ratios are vanilla / "
              "system (above 1 is faster); commits (ready/promoted/sync) counts commit turns "
              "whose prepared branch was ready, promoted to the fast lane, or took the "
              "synchronous path (sync, stale, fallback)."), "", f"![TTFT per turn]({png_name})", ""]
    for r in records:
        if r.get("commit_outcomes"):
            lines.append(f"- {r['system']}: commit outcomes {json.dumps(r['commit_outcomes'])}")
    targets = check_targets(records)
    if targets:
        lines += ["", "Targets (step 8):", ""] + [f"- {line}" for line in targets]
    if trace_stats:
        lines += ["", "Workload after scaling: " + ", ".join(f"{k} {v}"
                                                           for k, v in trace_stats.items())]
    return "\n".join(lines) + "\n"


def write_report(records: list[dict], workload: str | None = None,
                 results_dir: Path = RESULTS, trace_stats: dict | None = None) -> tuple[Path, Path]:
    """Write ``<workload>_ttft.png`` and ``<workload>.md`` for the latest record of each system;
    returns their paths."""
    chosen = latest_per_system(records, workload)
    if not chosen:
        raise ValueError(f"no result records for workload {workload!r}")
    workload = workload or chosen[0].get("workload", "miniagent")
    png = plot_ttft(chosen, Path(results_dir) / f"{workload}_ttft.png")
    md = Path(results_dir) / f"{workload}.md"
    md.write_text(markdown(chosen, workload, png.name, trace_stats))
    return png, md


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", default=None, help="default: the last record's workload")
    ap.add_argument("--results", default=str(RESULTS / "agent_replay.jsonl"))
    args = ap.parse_args(argv)
    records = [json.loads(line) for line in Path(args.results).read_text().splitlines() if line]
    workload = args.workload or records[-1].get("workload", "miniagent")
    for path in write_report(records, workload, Path(args.results).parent):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
