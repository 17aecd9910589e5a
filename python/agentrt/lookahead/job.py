"""Job: one preparation of a transformed context on the agent's side, as a state machine.

    IDLE (no job) -> PREPARING -> READY -> COMMITTING -> COMMITTED
                     or DEFERRED / BEHIND / FAILED / STALE on the way

    event       moves from                                    to
    ----------  --------------------------------------------  ----------------------------
    prepared    PREPARING                                     READY (COMMITTING stays)
    unchanged   PREPARING, COMMITTING                         DEFERRED
    deferred    PREPARING, COMMITTING                         DEFERRED (``reason``)
    behind      READY                                         BEHIND
    failed      PREPARING, READY, BEHIND, COMMITTING          FAILED (``reason``)
    commit      PREPARING, READY, BEHIND                      COMMITTING
    swapped     COMMITTING                                    COMMITTED
    stale       PREPARING, READY, BEHIND, DEFERRED, FAILED    STALE

The preparation (transform -> prepare) and its catch-ups run as tasks
(preparation.py); they report what happened through the event methods below and the commit
reads the state. An event the table does not list for the current state changes nothing: a
preparation that lands while the commit awaits it records its branch and the job stays
COMMITTING; a catch-up that ends after the commit is ignored. Catch-ups run only while READY.
"""
import asyncio
import enum
from dataclasses import dataclass, field
from typing import Optional

from agentrt.lookahead.strategy import Transform


class JobState(enum.Enum):
    IDLE = "idle"                # no job (the runtime's view)
    PREPARING = "preparing"      # transform and prepare request in flight
    READY = "ready"              # branch prepared on the server; later segments are appended
    BEHIND = "behind"            # the server cancelled a catch-up: the branch is ready as it
                                 # was, no more appends; the commit request prefills the rest
    DEFERRED = "deferred"        # nothing is prepared: the transform changed nothing, or the
                                 # server has no idle time for it (``reason``, capacity.py);
                                 # the next boundary starts a fresh job
    FAILED = "failed"            # transform, prepare or catch-up failed (``reason``)
    COMMITTING = "committing"    # on_commit took the job: no more appends; a running
                                 # preparation is awaited
    COMMITTED = "committed"      # the commit swaps to the branch
    STALE = "stale"              # the source prefix changed since the snapshot: abandoned


class Lane(enum.Enum):
    BACKGROUND = "background"    # prefilled when the scheduler has room
    PROMOTED = "promoted"        # the commit deadline is near: the scheduler's fast lane


S = JobState
_LIVE = (S.PREPARING, S.READY, S.BEHIND)
_NEXT: dict[str, dict[JobState, JobState]] = {
    "prepared": {S.PREPARING: S.READY, S.COMMITTING: S.COMMITTING},
    "unchanged": {S.PREPARING: S.DEFERRED, S.COMMITTING: S.DEFERRED},
    "deferred": {S.PREPARING: S.DEFERRED, S.COMMITTING: S.DEFERRED},
    "behind": {S.READY: S.BEHIND},
    "failed": {s: S.FAILED for s in _LIVE + (S.COMMITTING,)},
    "commit": {s: S.COMMITTING for s in _LIVE},
    "swapped": {S.COMMITTING: S.COMMITTED},
    "stale": {s: S.STALE for s in _LIVE + (S.DEFERRED, S.FAILED)},
}


@dataclass
class Job:
    version: int
    segment_end: int
    source_signature: str
    lane: Lane = Lane.BACKGROUND
    held: bool = False            # the commit was due before its prepare was sent: the prepare
                                  # waits a beat for it (preparation.py)
    state: JobState = JobState.PREPARING
    reason: str = ""                          # why it FAILED
    task: Optional[asyncio.Task] = None       # the preparation: transform, branch prefill
    sent: bool = False                        # its prepare request went to the server
    sent_at: Optional[float] = None           # ... at this perf_counter time
    strategy_name: str = ""                   # ... naming this strategy
    answered: asyncio.Event = field(default_factory=asyncio.Event)   # set when the server's
                                              # decision on it came back
    need_s: Optional[float] = None            # the prefill the server's capacity check
                                              # priced it at
    earliest: bool = False        # started at the first boundary since the last commit at
                                  # which a transform changed the context (no check had
                                  # declined an earlier one)
    catch_up: Optional[asyncio.Task] = None   # appends of later segments, after it
    transform: Optional[Transform] = None
    branch_id: Optional[str] = None
    branch_len: int = 0           # tokens of the branch on the server (transformed + caught up)
    covered: int = 0              # messages[:covered] were seen by the branch: what of them is
                                  # final is in it (transformed + caught up)
    tail: list = field(default_factory=list)     # messages the branch holds after the
                                                 # transformed snapshot (caught up)
    latest: list = field(default_factory=list)   # newest messages seen (catch-up target)
    committing: asyncio.Event = field(default_factory=asyncio.Event)   # set by ``commit``

    def _on(self, event: str) -> bool:
        new = _NEXT[event].get(self.state)
        if new is not None:
            self.state = new
        return new is not None

    # --- events ------------------------------------------------------------------------------
    def prepared(self, branch_id: str, tokens: int) -> None:
        self.branch_id, self.branch_len, self.covered = branch_id, tokens, self.segment_end
        self._on("prepared")

    def unchanged(self) -> None:
        self._on("unchanged")

    def deferred(self, reason: str) -> None:
        if self._on("deferred"):
            self.reason = reason

    def caught_up(self, tokens: int, covered: int, tail: list) -> None:
        self.branch_len, self.covered, self.tail = tokens, covered, list(tail)

    def behind(self) -> None:
        self._on("behind")

    def failed(self, reason: str) -> None:
        if self._on("failed"):
            self.reason = reason

    def commit(self) -> None:
        self._on("commit")
        self.committing.set()

    def swapped(self) -> None:
        self._on("swapped")

    def stale(self) -> None:
        self._on("stale")

    def promote(self) -> None:
        self.lane = Lane.PROMOTED

    # --- questions ---------------------------------------------------------------------------
    @property
    def branch_messages(self) -> list:
        """The messages the branch on the server holds: the transform and its caught-up tail."""
        return list(self.transform.messages if self.transform else []) + self.tail

    @property
    def preparing(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def undecided(self) -> bool:
        """Its prepare was sent and the server's decision has not come back (it comes at the
        scheduler's next loop: one forward step, seconds on a busy server)."""
        return self.sent and not self.answered.is_set() and self.preparing

    async def wait_decided(self, timeout_s: float) -> None:
        """Return when the server's decision came back or the preparation ended, or after
        ``timeout_s``."""
        answered = asyncio.ensure_future(self.answered.wait())
        try:
            await asyncio.wait({answered, self.task}, timeout=timeout_s,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            answered.cancel()

    @property
    def busy(self) -> bool:
        """The preparation or a catch-up is running."""
        return any(t is not None and not t.done() for t in (self.task, self.catch_up))

    async def wait_for_commit(self, timeout_s: float) -> None:
        """Return when the commit takes the job, or after ``timeout_s``."""
        try:
            await asyncio.wait_for(self.committing.wait(), timeout_s)
        except asyncio.TimeoutError:
            pass

    def wants_catch_up(self) -> bool:
        """The branch is ready and newer messages than it covers were seen."""
        return self.state is JobState.READY and len(self.latest) > self.covered

    def cancel(self) -> None:
        for task in (self.task, self.catch_up):
            if task is not None:
                task.cancel()
