"""Step 8's targets, checked on the records of one run (ratios of systems in that run).

    commit TTFT p50, vanilla / agentrt           >= 15
    agentrt commit TTFT p50 / its ordinary p50   <= 1.2
    JCT, vanilla / agentrt                       >= 1.5, and agentrt's JCT under ttl_only's

Next to the first, the bound the run itself sets: vanilla's commit p50 over agentrt's ordinary
p50, what the ratio would be if every commit cost exactly an ordinary turn of the same run (the
best lookahead can do: a commit still prefills the turn's new tokens and queues like any turn).
"""
TARGET_COMMIT_SPEEDUP, TARGET_COMMIT_VS_ORDINARY, TARGET_JCT_SPEEDUP = 15.0, 1.2, 1.5


def _div(a, b):
    return round(a / b, 2) if a is not None and b else None


def _x(value) -> str:
    return "—" if value is None else f"{value}x"


def _verdict(value, ok) -> str:
    return "no data" if value is None else ("met" if ok(value) else "missed")


def check_targets(records: list[dict]) -> list[str]:
    """One line per target; [] when the run has no vanilla or no agentrt record."""
    by = {r["system"]: r for r in records}
    v, a = by.get("vanilla"), by.get("agentrt")
    if v is None or a is None:
        return []
    speedup = _div(v.get("commit_ttft_p50_ms"), a.get("commit_ttft_p50_ms"))
    bound = _div(v.get("commit_ttft_p50_ms"), a.get("ordinary_ttft_p50_ms"))
    own = _div(a.get("commit_ttft_p50_ms"), a.get("ordinary_ttft_p50_ms"))
    jct = _div(v.get("jct_mean_s"), a.get("jct_mean_s"))
    ttl = by.get("ttl_only")
    lines = [
        f"commit TTFT p50 vanilla / agentrt: {_x(speedup)} (target >= {TARGET_COMMIT_SPEEDUP}x: "
        f"{_verdict(speedup, lambda x: x >= TARGET_COMMIT_SPEEDUP)}; a commit costing an "
        f"ordinary turn of this run would give {_x(bound)})",
        f"agentrt commit / ordinary TTFT p50: {_x(own)} (target <= {TARGET_COMMIT_VS_ORDINARY}x: "
        f"{_verdict(own, lambda x: x <= TARGET_COMMIT_VS_ORDINARY)})",
        f"JCT vanilla / agentrt: {_x(jct)} (target >= {TARGET_JCT_SPEEDUP}x: "
        f"{_verdict(jct, lambda x: x >= TARGET_JCT_SPEEDUP)})",
    ]
    if ttl is not None:
        better = a["jct_mean_s"] < ttl["jct_mean_s"]
        lines.append(f"JCT agentrt {a['jct_mean_s']} s vs ttl_only {ttl['jct_mean_s']} s "
                     f"(target: better: {'met' if better else 'missed'})")
    return lines
