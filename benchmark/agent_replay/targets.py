"""Step 8's targets, checked on the records of one run (ratios of systems in that run).

    commit TTFT p50, vanilla / agentrt           >= 15
    agentrt commit TTFT p50 / its ordinary p50   <= 1.2
    JCT, vanilla / agentrt                       >= 1.5, and agentrt's JCT under ttl_only's

Next to the first, the bound the run itself sets: vanilla's commit p50 over agentrt's ordinary
p50, what the ratio would be if every commit cost exactly an ordinary turn of the same run (the
best lookahead can do: a commit still prefills the turn's new tokens and queues like any turn).

Step 10's targets per regime (``regime_verdicts``, ``target_table``) follow below.
"""
import re
from collections import Counter
from typing import NamedTuple

from benchmark.agent_replay.floor import commit_floor_ms
from benchmark.agent_replay.work import work_of
from benchmark.common import table

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


# ---- step 10: the targets of each regime (issue 16, item 6) -------------------------------------
#
#   idle       agentrt commit / ordinary TTFT p50 <= 1.2; commit p50 vanilla / agentrt >= 10;
#              commits ready >= 90 %; ordinary TTFT p99 and TBT p99 agentrt / ttl_only <= 1.15
#              (ttl_only is the same server and policy with lookahead off); and the setting
#              itself: ttl_only busy 40-60 % of the run's wall time
#   saturated  JCT agentrt / ttl_only <= 1.03; prefilled tokens agentrt / ttl_only <= 1.05
#   memory     ttl_only's and agentrt's JCT below kernel_only's; agentrt's <= ttl_only's
#   every      agentrt's wasted tokens <= 5 % of its background tokens
#   idle, when server_edit ran (issue 17, step 11: the server edits, an openai-SDK client):
#              server_edit commit / ordinary TTFT p50 <= 1.2; commit p50 of the synchronous edit
#              (server_edit_sync when it ran, else vanilla) / server_edit >= 10
#
# A verdict is "met", "missed" or "no data" (a system or a number the run lacks).

class Verdict(NamedTuple):
    target: str
    goal: str
    measured: str
    verdict: str
    bound: str = ""           # the run's own bound, or what limits the number


TARGET_IDLE_SPEEDUP, TARGET_READY, TARGET_ON_OFF = 10.0, 0.9, 1.15
TARGET_SAT_JCT, TARGET_SAT_PREFILL, TARGET_WASTE = 1.03, 1.05, 0.05
BUSY_RANGE = (0.4, 0.6)


def _check(target: str, goal: str, value, ok, bound: str = "", unit: str = "x") -> Verdict:
    shown = "—" if value is None else f"{value}{unit}"
    return Verdict(target, goal, shown, _verdict(value, ok), bound)


def _get(rec, key):
    return None if rec is None else rec.get(key)


def busy_share(rec) -> float | None:
    """Model-step time over the replay's wall time (agentrt servers report ``busy_s``)."""
    busy, wall = _get(rec, "busy_s"), _get(rec, "wall_s")
    return round(busy / wall, 3) if busy is not None and wall else None


def _floor(rec) -> float | None:
    return None if rec is None else commit_floor_ms(rec.get("turns") or [])


def floor_note(rec) -> str:
    """The commit / ordinary ratio ``rec``'s commits would have at their floor (floor.py)."""
    return (f"commits at their floor (ordinary turns as large): "
            f"{_x(_div(_floor(rec), _get(rec, 'ordinary_ttft_p50_ms')))}")


def speedup_bound(sync, rec) -> str:
    """The synchronous / prepared commit ratio ``rec`` would reach with a commit costing an
    ordinary turn, and with its commits at their floor (floor.py)."""
    sync_p50 = _get(sync, "commit_ttft_p50_ms")
    return (f"a commit costing an ordinary turn: "
            f"{_x(_div(sync_p50, _get(rec, 'ordinary_ttft_p50_ms')))}; at its floor: "
            f"{_x(_div(sync_p50, _floor(rec)))}")


def fit_note(rec) -> str:
    """How many of ``rec``'s commits had a preparation that fit its agent's idle time at some
    boundary (the capacity check's need <= idle, margin aside): a commit whose preparation
    never fit could be ready only by taking time the foreground needed. A commit with no check
    since the previous commit (``best_fit`` None: its boundary came right after that commit, or
    the server's load was not known yet) is counted apart."""
    commits = [c for c in _get(rec, "commit_records") or [] if "best_fit" in c]
    if not commits:
        return "no fit data"        # (records before the field, or no commits)
    fit = sum(1 for c in commits if c["best_fit"] is not None and c["best_fit"] <= 1.0)
    unchecked = sum(1 for c in commits if c["best_fit"] is None)
    note = f"commits whose preparation fit idle time: {fit} of {len(commits)}"
    note += f" ({unchecked} never checked)" if unchecked else ""
    short = short_leads(commits)
    return note + (f"; not ready, sent at their earliest less than their prefill before the "
                   f"commit: {short}" if short else "")


def short_leads(commits: list[dict]) -> int:
    """Commits that were not ready although their preparation was sent at its earliest
    (``lead_s`` set), less than the prefill it needed (``need_s``) before the commit: no start
    rule could have had them ready (e.g. a commit one short tool call after the answer the
    preparation had to wait for)."""
    return sum(1 for c in commits if c.get("outcome") != "ready" and c.get("lead_s") is not None
               and c.get("need_s") and c["lead_s"] < c["need_s"])


def idle_verdicts(by: dict) -> list[Verdict]:
    v, t, a = by.get("vanilla"), by.get("ttl_only"), by.get("agentrt")
    share = busy_share(t)
    lookahead_vs_idle = _div(_get(a, "lookahead_busy_s"), _get(t, "idle_s"))
    tbt = _div(_get(a, "tbt_p99_ms"), _get(t, "tbt_p99_ms"))
    return [
        _check("ttl_only busy share (setting)", f"{BUSY_RANGE[0]}-{BUSY_RANGE[1]}", share,
               lambda x: BUSY_RANGE[0] <= x <= BUSY_RANGE[1],
               f"tool scale {_get(a or t, 'tool_scale')}", unit=""),
        _check("agentrt commit / ordinary TTFT p50", f"<= {TARGET_COMMIT_VS_ORDINARY}x",
               _div(_get(a, "commit_ttft_p50_ms"), _get(a, "ordinary_ttft_p50_ms")),
               lambda x: x <= TARGET_COMMIT_VS_ORDINARY, floor_note(a)),
        _check("commit TTFT p50 vanilla / agentrt", f">= {TARGET_IDLE_SPEEDUP}x",
               _div(_get(v, "commit_ttft_p50_ms"), _get(a, "commit_ttft_p50_ms")),
               lambda x: x >= TARGET_IDLE_SPEEDUP, speedup_bound(v, a)),
        _check("agentrt commits ready", f">= {TARGET_READY}", _get(a, "commits_ready_share"),
               lambda x: x >= TARGET_READY,
               f"branch prefill s / ttl_only idle s: {_x(lookahead_vs_idle)}; "
               + fit_note(a), unit=""),
        _check("ordinary TTFT p99 agentrt / ttl_only", f"<= {TARGET_ON_OFF}x",
               _div(_get(a, "ordinary_ttft_p99_ms"), _get(t, "ordinary_ttft_p99_ms")),
               lambda x: x <= TARGET_ON_OFF),
        _check("TBT p99 agentrt / ttl_only", f"<= {TARGET_ON_OFF}x", tbt,
               lambda x: x <= TARGET_ON_OFF, tbt_tail_note(a) if tbt is not None
               else "TBT not measured"),
    ] + server_edit_verdicts(by)


def tbt_tail_note(rec) -> str:
    """What held agentrt's gaps at or above its TBT p99 (stall_report.tail_causes): the target
    is about the background's work, and a tail held only by foreground prefill steps (another
    agent's turn while one decodes, as in any system) is not its."""
    causes = _get(rec, "tbt_tail_causes")
    if not causes:
        return ""
    held = ", ".join(f"{n} {kind}" for kind, n in sorted(causes.items(), key=lambda kv: -kv[1]))
    return f"gaps at or above the p99: {held}"


def server_edit_verdicts(by: dict) -> list[Verdict]:
    """Issue 17's targets for ``server_edit`` ([] when it did not run); the synchronous
    baseline is ``server_edit_sync`` when it ran, else ``vanilla`` (synchronous transforms)."""
    s = by.get("server_edit")
    if s is None:
        return []
    base = "server_edit_sync" if "server_edit_sync" in by else "vanilla"
    b = by.get(base)
    outcomes = _get(s, "commit_outcomes") or {}
    return [
        _check("server_edit commit / ordinary TTFT p50", f"<= {TARGET_COMMIT_VS_ORDINARY}x",
               _div(_get(s, "commit_ttft_p50_ms"), _get(s, "ordinary_ttft_p50_ms")),
               lambda x: x <= TARGET_COMMIT_VS_ORDINARY,
               f"prepared {outcomes.get('prepared', 0)} of {_get(s, 'commits') or 0} commits; "
               + floor_note(s)),
        _check(f"commit TTFT p50 {base} / server_edit", f">= {TARGET_IDLE_SPEEDUP}x",
               _div(_get(b, "commit_ttft_p50_ms"), _get(s, "commit_ttft_p50_ms")),
               lambda x: x >= TARGET_IDLE_SPEEDUP, speedup_bound(b, s)),
    ]


def saturated_verdicts(by: dict) -> list[Verdict]:
    t, a = by.get("ttl_only"), by.get("agentrt")
    wa, wt = work_of(a) if a else None, work_of(t) if t else None
    return [
        _check("JCT agentrt / ttl_only", f"<= {TARGET_SAT_JCT}x",
               _div(_get(a, "jct_mean_s"), _get(t, "jct_mean_s")),
               lambda x: x <= TARGET_SAT_JCT,
               f"ttl_only busy share {busy_share(t)}" + model_time_note(a, t)),
        _check("prefilled tokens agentrt / ttl_only", f"<= {TARGET_SAT_PREFILL}x",
               _div(wa and wa.prefilled, wt and wt.prefilled),
               lambda x: x <= TARGET_SAT_PREFILL,
               "" if wa is None else f"agentrt background {wa.background}, wasted {wa.wasted}"),
    ]


def model_time_note(a, t) -> str:
    """Model time per prefilled token, agentrt over ttl_only: on a saturated server JCT follows
    the model time its tokens take, so with the same tokens prefilled this ratio is what the
    machine (its speed during each system's repeats) puts into the JCT ratio."""
    def per_token(rec):
        work = work_of(rec) if rec else None
        busy = _get(rec, "busy_s")
        return busy / work.prefilled if busy and work and work.prefilled else None

    ratio = _div(per_token(a), per_token(t))
    return "" if ratio is None else f"; model time per prefilled token agentrt / ttl_only: " \
        f"{_x(ratio)}"


def memory_verdicts(by: dict) -> list[Verdict]:
    k, t, a = (_get(by.get(s), "jct_mean_s") for s in ("kernel_only", "ttl_only", "agentrt"))
    return [
        _check("JCT ttl_only / kernel_only", "< 1x", _div(t, k), lambda x: t < k),
        _check("JCT agentrt / kernel_only", "< 1x", _div(a, k), lambda x: a < k),
        _check("JCT agentrt / ttl_only", "<= 1x", _div(a, t), lambda x: a <= t),
    ]


JOB_END = "session closed"     # the cause of a branch whose agent finished before its commit


def _cause(event: dict) -> str:
    """What ended a wasted branch, without the branch that superseded it."""
    return re.sub(r"(\s+by)?\s+b\d+$", "", event.get("why") or event.get("waste") or "?")


def waste_causes(events: list[dict]) -> str:
    """The run's waste by what ended each branch (the ledger's ``waste_events``), most first:
    ``815 session closed (1 branch)``; empty without events."""
    tokens, branches = Counter(), Counter()
    for e in events:
        why = _cause(e)
        tokens[why] += e.get("tokens", 0)
        branches[why] += 1
    return ", ".join(f"{n} {why} ({branches[why]} branch{'es' if branches[why] > 1 else ''})"
                     for why, n in tokens.most_common())


def waste_verdict(by: dict) -> Verdict:
    a = by.get("agentrt")
    if a is None:
        return Verdict("agentrt wasted / background tokens", f"<= {TARGET_WASTE}", "—", "no data")
    w, t = work_of(a), by.get("ttl_only")
    share = round(w.wasted / w.background, 3) if w.background else 0.0
    bound = f"{w.wasted} of {w.background} ({w.source})"
    events = a.get("waste_events") or []
    causes = waste_causes(events)
    if causes:
        bound += f": {causes}"
    at_job_end = sum(e.get("tokens", 0) for e in events if _cause(e) == JOB_END) \
        / (a.get("repeats") or 1)           # (the events of every repeat; ``w``: their mean)
    if at_job_end and w.background:
        # a preparation for a crossing the job ended before: no start rule that prepares every
        # commit without knowing the job's length avoids it (the rest could be avoided)
        before = max(0.0, w.wasted - at_job_end)      # (means over repeats round apart)
        bound += f"; waste before jobs ended: {round(before / w.background, 3)}"
    wt = work_of(t) if t is not None else None
    if wt is not None and wt.prefilled is not None and w.prefilled is not None:
        # the same agents synchronously: every token agentrt prefilled beyond that is waste
        bound += f"; prefilled beyond ttl_only: {w.prefilled - wt.prefilled}"
    return _check("agentrt wasted / background tokens", f"<= {TARGET_WASTE}", share,
                  lambda x: x <= TARGET_WASTE, bound, unit="")


REGIME_VERDICTS = {"idle": idle_verdicts, "saturated": saturated_verdicts,
                   "memory": memory_verdicts}


def regime_verdicts(regime: str, records: list[dict]) -> list[Verdict]:
    """The targets of ``regime`` checked on one run's records, then the waste target."""
    by = {r["system"]: r for r in records}
    return REGIME_VERDICTS[regime](by) + [waste_verdict(by)]


def target_table(verdicts: list[Verdict]) -> str:
    return table(["target", "goal", "measured", "verdict", "bound / note"],
                 [list(v) for v in verdicts])
