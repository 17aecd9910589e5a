"""CommitRecord: what one commit did, and CommitLog, the one object that completes records.

Outcomes (the returned messages are the same in every case; only the latency differs):
  ready     transform and branch were ready: pointer swap, sent beside the commit request
  promoted  the commit waited for unfinished preparation (the fast lane)
  stale     the prefix changed since the snapshot: dropped, transformed synchronously
  fallback  transform or preparation failed, or the server refused the swap: synchronous path
  sync      lookahead disabled (the baseline): the transform runs at commit time
  deferred  the server had no idle time for a preparation (capacity.py), or the commit came
            before its branch was sent: nothing was prefilled, the commit request prefills the
            transformed context (the transform done ahead of time is used when there is one)

A record is written when ``on_commit`` decides and completed later, here only: ``swapped``
with the background tokens the server's ledger spent on the branch, ``refused`` when the swap
the server got beside the commit request failed (the record becomes a fallback), ``measured`` with the commit request's TTFT and cached tokens (``runtime.chat()``
or the frontend's call record).
"""
import enum
from typing import NamedTuple, Optional


class Outcome(enum.StrEnum):
    """A commit's outcome; the values are the strings results and benchmarks record."""
    READY = "ready"
    PROMOTED = "promoted"
    STALE = "stale"
    FALLBACK = "fallback"
    SYNC = "sync"
    DEFERRED = "deferred"

    @property
    def swapped(self) -> bool:
        """The commit swaps the session's head to a prepared branch."""
        return self in (Outcome.READY, Outcome.PROMOTED)


class CommitRecord(NamedTuple):
    outcome: Outcome
    strategy: str
    prepared_tokens: int         # tokens of the prepared branch the commit swapped to (0: none)
    waited_s: float              # time on_commit spent (transform / prefill not ready)
    reason: str = ""
    segment_end: int = 0         # messages[:segment_end] were transformed; the rest kept as is
    ttft_s: Optional[float] = None   # of the commit request, once measured
    cached_tokens: Optional[int] = None
    background_tokens: Optional[int] = None   # the server prefilled for the branch (its ledger)
    best_fit: Optional[float] = None  # the capacity check's lowest need / idle since the last
                                      # commit (<= 1: the preparation fit the idle time at some
                                      # boundary; None: never checked)
    lead_s: Optional[float] = None    # from the prepare's send to the commit, for a preparation
                                      # sent at its earliest (``Job.earliest``; None otherwise)
    need_s: Optional[float] = None    # ... and the prefill the server priced it at: a lead
                                      # under the need is a commit no start rule could have
                                      # had ready


class CommitLog:
    """The records of one runtime, oldest first; the only writer of ``records``."""

    def __init__(self):
        self.records: list[CommitRecord] = []
        self._unmeasured: Optional[int] = None   # the last commit, until its request is sent

    def add(self, record: CommitRecord) -> int:
        self.records.append(record)
        self._unmeasured = len(self.records) - 1
        return self._unmeasured

    def refused(self, index: int, reason: str) -> None:
        """The server refused the swap of record ``index``: it is a fallback."""
        if index < len(self.records):
            self.records[index] = self.records[index]._replace(
                outcome=Outcome.FALLBACK, prepared_tokens=0, reason=reason)

    def swapped(self, index: int, background_tokens: Optional[int]) -> None:
        """The server swapped record ``index``'s branch in; it had prefilled
        ``background_tokens`` for it."""
        if index < len(self.records):
            self.records[index] = self.records[index]._replace(
                background_tokens=background_tokens)

    def measured(self, index: int, ttft_s: Optional[float],
                 cached_tokens: Optional[int]) -> None:
        """Record ``index``'s commit request was answered."""
        self.records[index] = self.records[index]._replace(ttft_s=ttft_s,
                                                           cached_tokens=cached_tokens)
        if index == self._unmeasured:
            self._unmeasured = None

    def request_sent(self, ttft_s: Optional[float], cached_tokens: Optional[int]) -> None:
        """A model call of the session was answered: the first one after a commit is that
        commit's request."""
        index, self._unmeasured = self._unmeasured, None
        if index is not None and self.records[index].ttft_s is None:
            self.measured(index, ttft_s, cached_tokens)
