"""The lookahead programming model: strategies, segments, states, staleness signatures.

Compatible in spirit with SmoothAgent: a strategy decides ``should_lookahead`` (soft threshold),
computes ``transform`` of a prefix, decides ``should_commit`` (hard threshold) and
``should_promote``. A transform may depend only on ``messages[:segment_end]`` and the strategy's
own data, so the runtime can run it ahead of time; ``signature(messages, end)`` detects that the
prefix changed since (stale). A commit is ``transformed + messages[segment_end:]``.

This module imports nothing from the server: strategies are plain, unit-testable classes.
"""
import abc
import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, NamedTuple, Optional

Message = dict[str, Any]
# Background LLM call a strategy may use (summaries): (messages, max_tokens) -> text
LLMCall = Callable[[list[Message], int], Awaitable[str]]


def signature(messages: list[Message], end: Optional[int] = None) -> str:
    """Stable hash of ``messages[:end]`` (role, content, name, tool fields), for staleness."""
    prefix = messages if end is None else messages[:end]
    data = json.dumps(prefix, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(data.encode()).hexdigest()


@dataclass(frozen=True)
class ContextBudget:
    """Context budget in tokens; soft and hard triggers as fractions of it.

    ``lead_segments``: None starts the preparation at the soft threshold (SmoothAgent). A number
    L starts it only past the soft threshold *and* when the hard one is predicted within the
    next L segments (``MainState.growth``: the largest recent segment). Every segment that
    arrives between the start and the commit is prefilled twice (the session's own turn and the
    branch's catch-up), so a late, deadline-driven start saves that work on a busy server; the
    commit request itself prefills what arrived after the snapshot.

    ``promote_segments``: a preparation still running when the hard threshold is predicted
    within this many segments is promoted (the commit deadline: its prefill leaves the
    background class and goes first, so it is ready when the commit comes). None (default):
    promoted only when the commit finds it unfinished. On a saturated server an early promotion
    moves the commit's prefill in front of other agents' turns, so it is opt-in.
    """
    tokens: int
    soft: float = 0.6
    hard: float = 0.8
    lead_segments: Optional[int] = None
    promote_segments: Optional[int] = None

    def __post_init__(self):
        if self.tokens <= 0 or not 0 < self.soft <= self.hard <= 1:
            raise ValueError("need tokens > 0 and 0 < soft <= hard <= 1")
        if self.lead_segments is not None and self.lead_segments < 0:
            raise ValueError("lead_segments must be >= 0 (or None: start at the soft threshold)")
        if self.promote_segments is not None and self.promote_segments < 0:
            raise ValueError("promote_segments must be >= 0 (or None: promote at the commit)")

    @property
    def soft_tokens(self) -> int:
        return int(self.tokens * self.soft)

    @property
    def hard_tokens(self) -> int:
        return int(self.tokens * self.hard)


@dataclass
class MainState:
    """What the agent's loop holds: its messages and the strategy's own data."""
    messages: list[Message]
    tokens: int
    strategy_data: dict = field(default_factory=dict)
    growth: Optional[int] = None     # tokens the next segment is expected to add (None: unknown)


class Transform(NamedTuple):
    messages: list[Message]          # the transformed prefix (replaces messages[:segment_end])
    strategy_data: dict              # the strategy's data after this transform


class TransformError(RuntimeError):
    """A transform could not be computed (e.g. the summary request failed)."""


class LookaheadStrategy(abc.ABC):
    """One context transformation. Subclasses set ``name`` and implement ``transform``.

    Compact commits: a commit appends to the transformed snapshot what arrived after it (up to
    ``hard - soft`` tokens), so a strategy whose transform keeps at most ``2 soft - hard`` of
    the budget leaves every commit below the soft threshold, and the next preparation starts
    only when the context grows past it again (test_commit_compact.py checks each strategy)."""

    name = "strategy"

    def __init__(self, budget: ContextBudget):
        self.budget = budget

    @property
    def segment_local(self) -> bool:
        """True when the transform maps each message on its own: ``transform(a + b)`` equals
        ``transform(a) + transform(b)`` at any message boundary. Catch-ups then append the
        *transformed* segments that arrive after the snapshot, and a commit is exactly the
        synchronous transform of the whole context; otherwise those segments are kept as
        they are (the strategy's docstring says what that keeps)."""
        return False

    def should_lookahead(self, state: MainState) -> bool:
        """Start preparing the transformation in the background: past the soft threshold and,
        with ``budget.lead_segments``, once the hard one is near (an unknown growth: at once)."""
        if state.tokens < self.budget.soft_tokens:
            return False
        lead = self.budget.lead_segments
        return lead is None or state.growth is None or self._hard_within(state, lead)

    def should_commit(self, state: MainState) -> bool:
        """Apply the transformation before the next model call (hard threshold)."""
        return state.tokens >= self.budget.hard_tokens

    def should_promote(self, state: MainState) -> bool:
        """The commit is imminent (due now, or predicted within ``budget.promote_segments``):
        unfinished preparation moves to the fast lane."""
        if self.should_commit(state):
            return True
        lead = self.budget.promote_segments
        return lead is not None and state.growth is not None and self._hard_within(state, lead)

    def _hard_within(self, state: MainState, segments: int) -> bool:
        """The hard threshold is predicted within ``segments`` segments of ``state.growth``."""
        return state.tokens + segments * state.growth >= self.budget.hard_tokens

    def segment_end(self, messages: list[Message]) -> int:
        """Where the transformed prefix ends (default: everything so far)."""
        return len(messages)

    async def apply(self, messages: list[Message], strategy_data: dict,
                    llm: Optional[LLMCall]) -> Transform:
        """The synchronous transform of a whole context: ``messages[:segment_end]`` transformed,
        the rest as it is (what a commit without lookahead sends)."""
        end = self.segment_end(messages)
        t = await self.transform(messages[:end], strategy_data, llm)
        return Transform(t.messages + list(messages[end:]), t.strategy_data)

    def commit_reserve(self, messages: list[Message], count_tokens: Callable[[str], int]) -> int:
        """Tokens expected to join ``messages`` before the commit: the room left to the hard
        threshold (0 at or past it: a synchronous commit). A strategy that keeps the most recent
        N tokens keeps N minus this, so the context right after a commit holds about N whether
        the transform was prepared at the soft threshold or run at the hard one."""
        used = sum(count_tokens(m.get("content") or "") for m in messages)
        return max(0, self.budget.hard_tokens - used)

    @abc.abstractmethod
    async def transform(self, messages: list[Message], strategy_data: dict,
                        llm: Optional[LLMCall]) -> Transform:
        """Transform ``messages`` (a prefix; never mutate it). Pure but for ``llm`` calls."""


def clone(messages: list[Message]) -> list[Message]:
    return copy.deepcopy(messages)


def is_tool_output(message: Message) -> bool:
    return message.get("role") == "tool"


def leading_system(messages: list[Message]) -> int:
    """Number of leading system messages (kept by every strategy)."""
    n = 0
    while n < len(messages) and messages[n].get("role") == "system":
        n += 1
    return n


def recent_start(messages: list[Message], keep_tokens: int, count_tokens, floor: int = 0) -> int:
    """Index where the most recent messages worth at most ``keep_tokens`` begin (never below
    ``floor``, never on a tool output whose call would be cut off)."""
    used, start = 0, len(messages)
    while start > floor:
        cost = count_tokens(messages[start - 1].get("content") or "")
        if used + cost > keep_tokens:
            break
        used, start = used + cost, start - 1
    while start < len(messages) and messages[start].get("role") == "tool":
        start += 1
    return start
