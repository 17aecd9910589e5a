"""WorkLedger: every token the scheduler prefills, counted once, by purpose; background waste by
reason. Kept by LookaheadRadixCache (the scheduler process); fed by the scheduler hook that runs
each prefill batch and by the cache when a branch ends. Pure bookkeeping: no tree, no tensors.

Purposes (they partition the prefill the scheduler ran: their sum is every extend token)::

    fg_new        foreground tokens past what the session's context (or a branch of it) holds;
                  every token of a request that names no agentrt session
    fg_recompute  foreground tokens an earlier request of the session had prefilled (its
                  context, or a branch of it) but the tree had evicted
    fg_rewrite    every token of a foreground request that does not extend its session's
                  context nor any branch of it: a context transform applied synchronously (the
                  new turn's own tokens included: the server cannot tell them apart). This is
                  the cost lookahead exists to remove.
    prepare       a branch's first prefill
    catch_up      a branch's later growth (append)

A foreground request is classified at its first prefill chunk, against the session as it stood
then; its later chunks keep that classification.

Waste (a part of prepare + catch_up, never added to the total): when a branch ends uncommitted,
the tokens the tree drops with it (its exclusive tail and what hangs below it on no kept path,
e.g. a cancelled or unfinished catch-up; at most what was prefilled for it) are wasted, by
reason; tokens prefilled for a branch that had already ended are wasted at once. Tokens left in
the tree as ordinary cache (a path another branch or a session's context shares; a cancelled
catch-up below a branch that lives on; what a preempted or withdrawn preparation landed) are not
waste: whoever reuses them prefills nothing. The last ``MAX_EVENTS`` wastes
are kept with their branch and the transition that ended it (``waste_events``), so a run's waste
can be traced to its cause.
"""
import enum
from collections import Counter, OrderedDict, deque
from typing import NamedTuple, Optional

from agentrt.radix.branch import Branch, BranchBook, BranchState, common_prefix_len


class Purpose(enum.StrEnum):
    FG_NEW = "fg_new"
    FG_RECOMPUTE = "fg_recompute"
    FG_REWRITE = "fg_rewrite"
    PREPARE = "prepare"
    CATCH_UP = "catch_up"

    @property
    def background(self) -> bool:
        return self in (Purpose.PREPARE, Purpose.CATCH_UP)


class Waste(enum.StrEnum):
    STALE = "stale"                     # the source prefix changed
    SUPERSEDED = "superseded"           # a newer preparation of the same strategy replaced it
    PREEMPTED = "preempted"             # its prefill was aborted or failed and not resumed
    BUDGET = "budget"                   # abandoned: over the lookahead budget
    MEMORY = "memory"                   # abandoned: KV memory pressure
    NOT_COMMITTED = "not_committed"     # prepared, and the session moved on without it
    LATE = "late"                       # prefilled after its branch had ended


REASONS = (  # reason text of a branch's last transition -> waste reason (first match wins)
    ("superseded", Waste.SUPERSEDED), ("over lookahead budget", Waste.BUDGET),
    ("KV memory pressure", Waste.MEMORY), ("prefill", Waste.PREEMPTED),
    ("preempt", Waste.PREEMPTED), ("source", Waste.STALE),
)


def waste_reason(branch: Branch) -> Waste:
    """Why an ended branch's tokens were wasted, from its last transition."""
    reason = branch.history[-1].reason if branch.history else ""
    for text, waste in REASONS:
        if text in reason:
            return waste
    return Waste.STALE if branch.state is BranchState.STALE and "committed" not in reason \
        else Waste.NOT_COMMITTED


class ForegroundPlan(NamedTuple):
    """How a foreground request's tokens split: ``[0, held)`` the session held before it
    (recompute when prefilled), the rest new; ``rewrite``: all of it is fg_rewrite."""
    held: int
    rewrite: bool


def plan_foreground(tokens: list[int], context: list[int], branches: list[list[int]],
                    prompt_len: int = 0) -> ForegroundPlan:
    """Classify a session request's tokens against the session's context and its branches'
    (a commit request may reach the scheduler before or after its pointer swap).
    ``prompt_len``: the session's previous prompt; a request that keeps all of it but differs
    in the reply after it (a reply re-rendered by the chat template) is not a rewrite."""
    held = 0
    for path in [context] + branches:
        if path and common_prefix_len(tokens, path) == len(path):
            held = max(held, len(path))
    if held or not context:
        return ForegroundPlan(held, False)
    shared = common_prefix_len(tokens, context)
    if shared < min(len(context), prompt_len or len(context)):
        return ForegroundPlan(0, True)
    return ForegroundPlan(shared, False)


class WorkLedger:
    MAX_PLANS = 4096   # foreground requests mid-prefill remembered (oldest forgotten first)
    MAX_EVENTS = 32    # waste events kept (oldest forgotten first)

    def __init__(self):
        self.prefilled: Counter = Counter()     # Purpose -> tokens
        self.wasted: Counter = Counter()        # Waste -> tokens
        self.by_branch: dict[str, int] = {}     # live branch id -> tokens prefilled for it
        self.committed: OrderedDict[str, int] = OrderedDict()   # the same, once committed
        self._plans: OrderedDict[str, ForegroundPlan] = OrderedDict()
        self._prompt_lens: OrderedDict[str, int] = OrderedDict()   # session -> last prompt
        self.events: deque = deque(maxlen=self.MAX_EVENTS)   # the last wastes (``_waste``)
        self.listeners: list = []               # fn(kind, label, tokens): "prefilled"/"wasted"

    # --- feeding --------------------------------------------------------------------------------
    def branch_prefill(self, book: BranchBook, branch_id: str, tokens: int) -> Purpose:
        """``tokens`` prefilled by the tagged request of ``branch_id``."""
        branch = book.branches.get(branch_id)
        catching_up = branch is not None and branch.state is BranchState.READY \
            and branch.pending_tokens is not None
        purpose = Purpose.CATCH_UP if catching_up or (
            branch is not None and branch.state is BranchState.COMMITTED) else Purpose.PREPARE
        self._add(purpose, tokens)
        if branch is None or (not branch.state.live and branch.state is not BranchState.COMMITTED):
            self._waste(Waste.LATE, tokens, branch)
        elif branch.state.live:
            self.by_branch[branch_id] = self.by_branch.get(branch_id, 0) + tokens
        return purpose

    def foreground_prefill(self, book: BranchBook, rid: str, session_id: Optional[str],
                           tokens, start: int, count: int) -> None:
        """``count`` tokens of foreground request ``rid`` prefilled from position ``start``;
        ``tokens`` (its prompt ids, any sequence) are read only at its first chunk."""
        plan = self._plans.get(rid)
        if plan is None:
            plan = self._plan(book, session_id, tokens)
            self._remember(self._plans, rid, plan)
            if session_id is not None:
                self._remember(self._prompt_lens, session_id, len(tokens))
        if plan.rewrite:
            self._add(Purpose.FG_REWRITE, count)
            return
        recompute = max(0, min(start + count, plan.held) - start)
        self._add(Purpose.FG_RECOMPUTE, recompute)
        self._add(Purpose.FG_NEW, count - recompute)

    def request_done(self, rid: str) -> None:
        self._plans.pop(rid, None)

    def branch_committed(self, branch_id: str) -> None:
        self._remember(self.committed, branch_id, self.by_branch.pop(branch_id, 0))

    def branch_tokens(self, branch_id: str) -> int:
        """Tokens prefilled for a live or committed branch (what its commit saved)."""
        return self.by_branch.get(branch_id, self.committed.get(branch_id, 0))

    def branch_ended(self, branch: Branch, dropped_tokens: int) -> None:
        """``branch`` ended uncommitted; the tree dropped ``dropped_tokens`` of its path."""
        prefilled = self.by_branch.pop(branch.id, 0)
        self._waste(waste_reason(branch), min(prefilled, max(0, dropped_tokens)), branch)

    # --- reading --------------------------------------------------------------------------------
    def background_tokens(self) -> int:
        return sum(n for p, n in self.prefilled.items() if Purpose(p).background)

    def to_json(self) -> dict:
        background = self.background_tokens()
        wasted = sum(self.wasted.values())
        return {"prefilled": {p.value: self.prefilled.get(p, 0) for p in Purpose},
                "total": sum(self.prefilled.values()), "background": background,
                "wasted": {w.value: self.wasted.get(w, 0) for w in Waste},
                "wasted_total": wasted, "waste_events": list(self.events),
                "wasted_share": round(wasted / background, 4) if background else 0.0}

    # --- internals ------------------------------------------------------------------------------
    def _plan(self, book: BranchBook, session_id: Optional[str],
              tokens: list[int]) -> ForegroundPlan:
        session = book.sessions.get(session_id) if session_id is not None else None
        if session is None:
            return ForegroundPlan(0, False)
        paths = [book.branches[b].tokens for b in session.branches
                 if b in book.branches and (book.branches[b].state.live
                                            or book.branches[b].state is BranchState.COMMITTED)]
        plan = plan_foreground(tokens, session.context, paths,
                               self._prompt_lens.get(session_id, 0))
        if session_id not in self._prompt_lens:   # its first request: nothing was served yet
            plan = plan._replace(held=0)
        return plan

    def _remember(self, table: OrderedDict, key: str, value) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.MAX_PLANS:
            table.popitem(last=False)

    def _add(self, purpose: Purpose, tokens: int) -> None:
        if tokens > 0:
            self.prefilled[purpose] += tokens
            for listener in self.listeners:
                listener("prefilled", purpose.value, tokens)

    def _waste(self, reason: Waste, tokens: int, branch: Optional[Branch]) -> None:
        if tokens > 0:
            self.wasted[reason] += tokens
            self.events.append({"waste": reason.value, "tokens": tokens, **_about(branch)})
            for listener in self.listeners:
                listener("wasted", reason.value, tokens)


def _about(branch: Optional[Branch]) -> dict:
    """A waste event's account of its branch: which, its states, the transition that ended it."""
    if branch is None:
        return {"branch": None, "why": ""}
    return {"branch": branch.id, "session": branch.session_id, "strategy": branch.strategy,
            "branch_tokens": len(branch.tokens),
            "states": [t.new.value for t in branch.history],
            "why": branch.history[-1].reason if branch.history else ""}
