"""Branches and sessions: the pure bookkeeping behind LookaheadRadixCache (no tree, no tensors).

A *session* is one agent conversation; its ``context`` is the token ids of the context the agent
sends next (the session head points at the tree node where that context ends). A *branch* is a
transformed context prepared ahead of time: it forks from the session's context after
``fork_len`` shared tokens and is tagged with (session, strategy, version, source signature).

Branch life cycle (every transition is recorded with its reason)::

    PREPARING --prefilled--> READY --commit--> COMMITTED
        |                      |  \\--append (catch-up) --> READY
        +---------+------------+
                  v
          STALE | ABANDONED          (terminal: the branch's KV is released)

Mutations: only `BranchBook` methods mutate branches and sessions (a unit test checks that no
other module assigns their fields); they never touch KV memory. LookaheadRadixCache calls them
and does the locking/freeing that goes with each one (the node a method hands back is the lock
the cache releases).
"""
import enum
import itertools
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional


class BranchState(enum.Enum):
    PREPARING = "preparing"
    READY = "ready"
    COMMITTED = "committed"
    STALE = "stale"
    ABANDONED = "abandoned"

    @property
    def live(self) -> bool:
        """Live branches hold (or are about to hold) KV memory and count against the budget."""
        return self in (BranchState.PREPARING, BranchState.READY)


ALLOWED = {
    BranchState.PREPARING: {BranchState.READY, BranchState.STALE, BranchState.ABANDONED},
    BranchState.READY: {BranchState.READY, BranchState.COMMITTED, BranchState.STALE,
                        BranchState.ABANDONED},
    BranchState.COMMITTED: set(),
    BranchState.STALE: set(),
    BranchState.ABANDONED: set(),
}


class LookaheadError(ValueError):
    """A request the tree refuses; ``status`` is the HTTP status the API answers with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class Transition(NamedTuple):
    old: Optional[BranchState]
    new: BranchState
    reason: str
    at: float


@dataclass
class Branch:
    id: str
    session_id: str
    strategy: str
    version: int
    source_signature: str
    tokens: list[int]               # the whole transformed context, fork prefix included
    fork_len: int                   # leading tokens shared with the session's context
    state: BranchState = BranchState.PREPARING
    created_at: float = field(default_factory=time.monotonic)
    history: list[Transition] = field(default_factory=list)
    node: Any = None                # tree node this branch holds a lock on (None: holds none)
    pending_tokens: Optional[list[int]] = None  # catch-up being prefilled (append)

    @property
    def target_tokens(self) -> list[int]:
        """What the branch's prefill request carries: the catch-up, else the branch itself."""
        return self.pending_tokens if self.pending_tokens is not None else self.tokens

    @property
    def unfinished_tokens(self) -> int:
        """Tokens its prefill still asks for: the branch past its fork while preparing, the
        catch-up while catching up (an upper bound: a prefill half done counts whole)."""
        if self.pending_tokens is not None:
            return len(self.pending_tokens) - len(self.tokens)
        return len(self.tokens) - self.fork_len if self.state is BranchState.PREPARING else 0

    def to_json(self) -> dict:
        return {
            "id": self.id, "session_id": self.session_id, "strategy": self.strategy,
            "version": self.version, "source_signature": self.source_signature,
            "state": self.state.value, "tokens": len(self.tokens), "fork_len": self.fork_len,
            "protected": self.node is not None,
            "catching_up": self.pending_tokens is not None,
            "history": [{"from": t.old.value if t.old else None, "to": t.new.value,
                         "reason": t.reason, "at": t.at} for t in self.history],
        }


@dataclass
class Session:
    id: str
    context: list[int] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)   # branch ids, oldest first
    opened_at: float = field(default_factory=time.monotonic)
    withdrawn: dict[str, int] = field(default_factory=dict)  # strategy -> newest version whose
                                                             # prepare the caller withdrew
    job_tokens: int = 0      # the job's length so far: its opening context and what each turn
                             # added (a commit's shrink is not growth; job_length.py)

    def grow_to(self, tokens: list[int]) -> None:
        """A turn's context: the job grew by what it adds to the length before it (a context
        the tree lost, emptied by a reset, counts nothing: what its turn added is not known)."""
        if self.context or not self.job_tokens:
            self.job_tokens += max(0, len(tokens) - len(self.context))
        self.context = list(tokens)


class CommitSwap(NamedTuple):
    """What a commit changed: the session's context before it, the node the branch held
    locked (the cache turns that lock into the commit pin) and whether the old context was
    kept (the commit request was cached first and already extends the branch)."""
    branch: Branch
    old_context: list[int]
    node: Any
    kept: bool


def common_prefix_len(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class BranchBook:
    """Sessions and branches by id. Pure bookkeeping: validates and records, never frees KV."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.sessions: dict[str, Session] = {}
        self.branches: dict[str, Branch] = {}
        self._ids = itertools.count(1)

    # --- sessions ------------------------------------------------------------------------------
    def open_session(self, session_id: str, context: Optional[list[int]] = None) -> Session:
        if not session_id or not isinstance(session_id, str):
            raise LookaheadError("session_id must be a non-empty string")
        if session_id in self.sessions:
            raise LookaheadError(f"session {session_id!r} is already open", 409)
        session = Session(session_id, list(context or []), opened_at=self.clock(),
                          job_tokens=len(context or []))
        self.sessions[session_id] = session
        return session

    def session(self, session_id: str) -> Session:
        try:
            return self.sessions[session_id]
        except KeyError:
            raise LookaheadError(f"unknown session {session_id!r}", 404) from None

    def close_session(self, session_id: str) -> list[Branch]:
        """Forget the session; returns its live branches (the caller abandons them first)."""
        session = self.session(session_id)
        return [self.branches[b] for b in session.branches if self.branches[b].state.live]

    def set_context(self, session_id: str, tokens: list[int]) -> Session:
        """A request of the session was cached: its tokens are the session's context now."""
        session = self.session(session_id)
        session.grow_to(tokens)
        return session

    def withdraw(self, session_id: str, strategy: str, version: int) -> list[Branch]:
        """The caller committed before it heard the answer to its prepare of ``strategy``
        ``version``: that version and older ones never register from now on; returns the live
        branches they registered (the caller ends them)."""
        session = self.session(session_id)
        session.withdrawn[strategy] = max(version, session.withdrawn.get(strategy, -1))
        return [b for b in self.live_branches(session_id)
                if b.strategy == strategy and b.version <= version]

    def drop_session(self, session_id: str) -> None:
        session = self.sessions.pop(session_id)
        for branch_id in session.branches:
            self.branches.pop(branch_id, None)

    # --- branches ------------------------------------------------------------------------------
    def new_branch(self, session_id: str, tokens: list[int], strategy: str, version: int,
                   source_signature: str) -> Branch:
        session = self.session(session_id)
        if not tokens:
            raise LookaheadError("a branch needs at least one token")
        if not isinstance(version, int) or version < 0:
            raise LookaheadError("version must be a non-negative integer")
        fork_len = common_prefix_len(tokens, session.context)
        if fork_len == 0:
            raise LookaheadError(
                f"branch does not fork from session {session_id!r}'s context (no common prefix)")
        if version <= session.withdrawn.get(strategy, -1):
            raise LookaheadError(f"{strategy!r} version {version} was withdrawn (the caller "
                                 "committed without it)", 409)
        for other in self.live_branches(session_id):
            if other.strategy == strategy and other.version >= version:
                raise LookaheadError(
                    f"stale version {version}: {strategy!r} branch {other.id} has version "
                    f"{other.version}", 409)
        branch = Branch(f"b{next(self._ids)}", session_id, strategy, version, source_signature,
                        list(tokens), fork_len, created_at=self.clock())
        self._record(branch, None, BranchState.PREPARING, "prepare")
        self.branches[branch.id] = branch
        session.branches.append(branch.id)
        return branch

    def branch(self, session_id: str, branch_id: str) -> Branch:
        self.session(session_id)
        branch = self.branches.get(branch_id)
        if branch is None or branch.session_id != session_id:
            raise LookaheadError(f"unknown branch {branch_id!r} in session {session_id!r}", 404)
        return branch

    def transition(self, branch: Branch, new: BranchState, reason: str) -> None:
        if new not in ALLOWED[branch.state]:
            raise LookaheadError(
                f"branch {branch.id} is {branch.state.value}; cannot become {new.value}", 409)
        self._record(branch, branch.state, new, reason)
        branch.state = new

    def start_catch_up(self, branch: Branch, tokens: list[int]) -> None:
        """The branch grows by ``tokens`` once their prefill lands (``landed``)."""
        if branch.state is not BranchState.READY:
            raise LookaheadError(f"branch {branch.id} is {branch.state.value}; only a ready "
                                 "branch can be appended to", 409)
        if not tokens:
            raise LookaheadError("append needs at least one token")
        branch.pending_tokens = branch.tokens + list(tokens)

    def landed(self, branch: Branch, node: Any) -> Any:
        """The branch's target tokens are in the tree, ``node`` locked where they end: READY.
        Returns the node it held before (the caller releases that lock)."""
        caught_up = branch.pending_tokens is not None
        old, tokens = branch.node, list(branch.target_tokens)
        branch.node, branch.tokens, branch.pending_tokens = node, tokens, None
        self.transition(branch, BranchState.READY, "caught up" if caught_up else "prefilled")
        return old

    def cancel_catch_up(self, branch: Branch, reason: str) -> None:
        """A catch-up that did not land: the branch stays ready with the tokens it had."""
        if branch.state is BranchState.READY and branch.pending_tokens is not None:
            branch.pending_tokens = None
            self.transition(branch, BranchState.READY, f"catch-up cancelled: {reason}")

    def commit(self, session_id: str, branch_id: str) -> CommitSwap:
        """The session's context becomes the branch (or stays, when it already extends it)."""
        branch = self.branch(session_id, branch_id)
        if branch.state is not BranchState.READY:
            raise LookaheadError(f"branch {branch_id} is {branch.state.value}, not ready", 409)
        session = self.session(session_id)
        old, node, n = session.context, branch.node, len(branch.tokens)
        kept = len(old) > n and old[:n] == branch.tokens
        session.context = list(old if kept else branch.tokens)
        branch.node, branch.pending_tokens = None, None
        self.transition(branch, BranchState.COMMITTED, "commit")
        return CommitSwap(branch, old, node, kept)

    def release(self, branch: Branch, state: BranchState, reason: str) -> Any:
        """The branch ends (stale or abandoned); returns the node it held locked, if any."""
        self.transition(branch, state, reason)
        node, branch.node, branch.pending_tokens = branch.node, None, None
        return node

    def forget_tree(self, reason: str) -> None:
        """The tree is gone (reset): every live branch is abandoned, every context empty."""
        for branch in self.live_branches():
            branch.node, branch.pending_tokens = None, None
            self.transition(branch, BranchState.ABANDONED, reason)
        for session in self.sessions.values():
            session.context = []

    def _record(self, branch: Branch, old, new, reason: str) -> None:
        branch.history.append(Transition(old, new, reason, self.clock()))

    def live_branches(self, session_id: Optional[str] = None) -> list[Branch]:
        """Live branches, oldest first (the order in which the budget abandons them)."""
        found = [b for b in self.branches.values() if b.state.live
                 and (session_id is None or b.session_id == session_id)]
        return sorted(found, key=lambda b: (b.created_at, int(b.id[1:])))

    def backlog_tokens(self) -> int:
        """Tokens every unfinished branch prefill still asks for: background work queued ahead
        of a new preparation (capacity.py)."""
        return sum(b.unfinished_tokens for b in self.live_branches())
