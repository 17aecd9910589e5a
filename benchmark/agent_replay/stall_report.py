"""What stalled a replay's longest token gaps: each gap matched to the server's prefill step that
held it (the TBT tail's cause, one line per gap).

A gap is placed on the replay's clock from its turn's first token (``first_s``) and the gaps
before it; a stall (server/scheduling/stalls.py) from its end (``ended_unix`` less the replay's
``began_unix``) and its length. A gap's stall is the one it overlaps most; a gap no kept stall
overlaps by half its length is "not traced" (the server keeps its 16 longest stalls only, and
a gap can also come from the client or a decode step).
"""
from typing import Optional

LONGEST = 5


def gap_windows(turns: list[dict]) -> list[dict]:
    """Every gap of the turns that keep their timing: agent, step, start and end (s), ms."""
    out = []
    for t in turns:
        if t.get("first_s") is None or not t.get("gaps_ms"):
            continue
        end = t["first_s"]
        for gap_ms in t["gaps_ms"]:
            start, end = end, end + gap_ms / 1e3
            out.append({"agent": t["agent"], "step": t["step"], "start_s": start, "end_s": end,
                        "ms": gap_ms})
    return out


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def stall_of(gap: dict, stalls: list[dict], began_unix: float) -> Optional[dict]:
    """The stall overlapping ``gap`` most, if by at least half the gap."""
    best, best_s = None, gap["ms"] / 2e3
    for stall in stalls:
        end = stall["ended_unix"] - began_unix
        shared = _overlap(gap["start_s"], gap["end_s"], end - stall["ms"] / 1e3, end)
        if shared >= best_s:
            best, best_s = stall, shared
    return best


def kind_of(stall: dict) -> str:
    """A stall's prefill step by whose tokens it ran: branch, foreground or mixed."""
    if stall["branch_tokens"] >= stall["prefill_tokens"]:
        return "branch prefill"
    return "mixed prefill" if stall["branch_tokens"] else "foreground prefill"


def tail_causes(records: list[dict], at_least_ms: Optional[float]) -> dict:
    """What held the gaps of ``records`` (one system's repeats) of at least ``at_least_ms`` (their
    pooled TBT p99): a count per kind of step (``kind_of``), "not traced" for the rest; empty
    when no record keeps its timing. A tail that no branch or mixed step holds is not the
    background's: the foreground's own prefill steps held it."""
    causes: dict = {}
    if at_least_ms is None:
        return causes
    for record in records:
        began = record.get("began_unix")
        if began is None:
            continue
        for gap in gap_windows(record.get("turns") or []):
            if gap["ms"] >= at_least_ms:
                stall = stall_of(gap, record.get("longest_stalls") or [], began)
                kind = "not traced" if stall is None else kind_of(stall)
                causes[kind] = causes.get(kind, 0) + 1
    return causes


def gap_causes(record: dict, longest: int = LONGEST) -> list[str]:
    """One line per longest gap of one replay (a record of one repeat): where it was and what
    stalled it; empty when the record keeps no timing."""
    began = record.get("began_unix")
    stalls = record.get("longest_stalls") or []
    gaps = sorted(gap_windows(record.get("turns") or []), key=lambda g: -g["ms"])[:longest]
    if began is None:
        return []
    lines = []
    for gap in gaps:
        where = f"{gap['agent']} step {gap['step']}: {gap['ms']:.0f} ms at {gap['start_s']:.1f} s"
        stall = stall_of(gap, stalls, began)
        if stall is None:
            lines.append(f"{where}: not traced")
            continue
        what = kind_of(stall)
        lines.append(f"{where}: a {stall['ms']:.0f} ms {what} step of {stall['prefill_tokens']} "
                     f"tokens ({stall['branch_tokens']} for branches; {stall['decoding']} "
                     "decoding)")
    return lines
