"""Work of one replay in tokens: what the server prefilled, what was background, what was waste.

Rules (a record is one system's result dict, as run.py appends it):

- prefilled: the server's work ledger (``prefilled_tokens``: every token its scheduler
  prefilled, foreground and background) when the server keeps one; otherwise (plain SGLang, an
  agentrt server without the lookahead cache) the sum over turns of prompt - cached tokens,
  what the foreground prefilled (such a system does no background work); over a combined
  record's ``repeats`` (drift.combine concatenates their turns) that sum is divided by them, a
  mean per repeat like every other number of the record.
- background: the ledger's branch prepare + catch-up; 0 without a ledger.
- wasted: the ledger's waste (a part of background); 0 without a ledger.
"""
from typing import NamedTuple, Optional

BACKGROUND = ("prepare", "catch_up")


class Work(NamedTuple):
    prefilled: Optional[int]
    background: int
    wasted: int
    source: str                  # "ledger" or "turns" (per-turn prompt - cached)


def turn_prefilled(turns: list[dict]) -> Optional[int]:
    """Sum of prompt - cached over turns that report both; None when none does."""
    known = [t for t in turns if t.get("prompt") is not None and t.get("cached") is not None]
    if not known:
        return None
    return sum(max(0, t["prompt"] - t["cached"]) for t in known)


def work_of(record: dict) -> Work:
    """The record's work, from its ledger when it has one (see the module docstring)."""
    ledger = record.get("ledger") or {}
    prefilled = ledger.get("prefilled") or {}
    if record.get("prefilled_tokens") is not None and prefilled:
        background = sum(int(prefilled.get(k) or 0) for k in BACKGROUND)
        return Work(int(record["prefilled_tokens"]), background,
                    int(record.get("wasted_tokens") or 0), "ledger")
    turns = turn_prefilled(record.get("turns") or [])
    repeats = record.get("repeats") or 1
    return Work(None if turns is None else round(turns / repeats), 0, 0, "turns")
