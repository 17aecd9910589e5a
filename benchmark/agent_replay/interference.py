"""Step 5's interference benchmark: what lookahead background work costs foreground requests.

For each agent count N, the same agents replay against the agentrt server twice: with the
lookahead runtime on (``agentrt``) and off (``agentrt_bg_off``: no background work, transforms
synchronous). Foreground latency compares ordinary turns only (a commit turn is not the same
request in the two runs: with lookahead off it re-prefills the transformed context):

    ttft_ratio = p99 TTFT of ordinary turns, on / off      target <= 1.15
    tbt_ratio  = p99 time between streamed tokens, on / off   target <= 1.15
    ready      = share of commits that found their preparation ready   target >= 0.95
    used       = share whose preparation was used: ready, or promoted (the commit waited for
                 the rest of it)
    lookahead_vs_idle = the server time branch prefill took with lookahead on / the server's
                 idle time with it off. Above 1, background work cannot all run in time nobody
                 else needed: some of it delays foreground requests, or commits wait for it
                 (necessary, not sufficient: the idle time must also fall between a
                 preparation's start and its commit)
"""
import json
from pathlib import Path

from benchmark.common import RESULTS, append_result, table

TARGET_RATIO, TARGET_READY = 1.15, 0.95
HEADERS = ["N", "TTFT p99 on", "TTFT p99 off", "TTFT ratio", "TBT p99 on", "TBT p99 off",
           "TBT ratio", "commits ready", "commits used", "lookahead tokens", "lookahead s on",
           "idle s off", "lookahead / idle", "preempted", "JCT on", "JCT off"]


def ratio(on, off):
    return round(on / off, 3) if on is not None and off else None


def summarize_pair(on: dict, off: dict) -> dict:
    return {"n_agents": on["n_agents"],
            "ttft_ratio": ratio(on["ordinary_ttft_p99_ms"], off["ordinary_ttft_p99_ms"]),
            "tbt_ratio": ratio(on["tbt_p99_ms"], off["tbt_p99_ms"]),
            "commits_ready_share": on.get("commits_ready_share"),
            "commits_used_share": on.get("commits_used_share"),
            "lookahead_vs_idle": ratio(on.get("lookahead_busy_s"), off.get("idle_s"))}


def interference_rows(pairs: list[dict]) -> tuple[list[str], list[list]]:
    rows = []
    for pair in pairs:
        on, off = pair["agentrt"], pair["agentrt_bg_off"]
        s = summarize_pair(on, off)
        rows.append([s["n_agents"], on["ordinary_ttft_p99_ms"], off["ordinary_ttft_p99_ms"],
                     s["ttft_ratio"], on["tbt_p99_ms"], off["tbt_p99_ms"], s["tbt_ratio"],
                     s["commits_ready_share"], s["commits_used_share"],
                     on.get("background_tokens"), on.get("lookahead_busy_s"),
                     off.get("idle_s"), s["lookahead_vs_idle"], on.get("bg_preempted"),
                     on["jct_mean_s"], off["jct_mean_s"]])
    return HEADERS, rows


def verdict(pairs: list[dict]) -> list[str]:
    out = []
    for pair in pairs:
        s = summarize_pair(pair["agentrt"], pair["agentrt_bg_off"])
        met = [s["ttft_ratio"] is not None and s["ttft_ratio"] <= TARGET_RATIO,
               s["tbt_ratio"] is not None and s["tbt_ratio"] <= TARGET_RATIO,
               s["commits_ready_share"] is not None and s["commits_ready_share"] >= TARGET_READY]
        out.append(f"N={s['n_agents']}: TTFT ratio {s['ttft_ratio']} "
                   f"({'met' if met[0] else 'missed'}), TBT ratio {s['tbt_ratio']} "
                   f"({'met' if met[1] else 'missed'}), commits ready {s['commits_ready_share']} "
                   f"({'met' if met[2] else 'missed'})"
                   + (f"; branch prefill took {s['lookahead_vs_idle']}x the idle time with "
                      "lookahead off" if s["lookahead_vs_idle"] is not None else ""))
    return out


def write_interference(pairs: list[dict], results_dir: Path = RESULTS) -> tuple[Path, Path]:
    """One JSON line per system per N in interference.jsonl (with the ratios), interference.md."""
    for pair in pairs:
        s = summarize_pair(pair["agentrt"], pair["agentrt_bg_off"])
        for record in pair.values():
            append_result("interference", {**record, **{k: v for k, v in s.items()
                                                         if k != "n_agents"}})
    headers, rows = interference_rows(pairs)
    first = pairs[0]["agentrt"]
    md = Path(results_dir) / "interference.md"
    md.write_text("\n".join([
        "# Interference: lookahead background work on / off (same run)", "",
        ", ".join(f"{k} {first[k]}" for k in ("workload", "steps", "budget", "gen_tokens",
                                              "lead_segments", "promote_segments", "model",
                                              "seed") if k in first), "",
        table(headers, rows), "",
        "Latencies in ms (ordinary turns; TBT over all streamed tokens), JCT in s. "
        f"Targets: ratios <= {TARGET_RATIO}, commits ready >= {TARGET_READY}.", "",
        *[f"- {line}" for line in verdict(pairs)], "",
        "```json", json.dumps([summarize_pair(p["agentrt"], p["agentrt_bg_off"])
                               for p in pairs]), "```", ""]))
    return Path(results_dir) / "interference.jsonl", md
