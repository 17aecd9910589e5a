"""``ConversationStore`` (bounded sticky state) and ``conversation_key`` (which conversation a
request belongs to).

Isolation: a state is found only under its conversation's key, and used only when the request's
history extends the history it was made on (``ConversationState.extended_by``); so no request
ever gets another conversation's edits, even when two conversations share a key.
"""
import hashlib
import json
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Optional, Sequence

from agentrt.editing.config import ContextManagement
from agentrt.editing.state import ConversationState, usable
from agentrt.editing.view import leading_head
from agentrt.lookahead.strategy import Message


def _h(value: Any) -> str:
    data = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def conversation_key(*, session_id: Optional[str] = None, routing_key: Optional[str] = None,
                     user_id: Optional[str] = None, messages: Sequence[Message] = (),
                     system: Any = None) -> str:
    """The first of: explicit ``session_id``; the router's ``X-SMG-Routing-Key`` value;
    Anthropic's ``metadata.user_id`` *qualified by the leading messages* (a user id names a
    person, not a conversation: two conversations of one user must not evict each other's
    state); else the leading messages alone: the system prompt (Anthropic's top-level
    ``system`` or the leading system / developer messages) and the first user message.
    Values are hashed (bounded keys, no ids in logs); kinds are prefixed (never collide)."""
    head = leading_head(messages)
    first_user = next((m for m in messages[head:] if isinstance(m, dict)
                       and m.get("role") == "user"), None)
    lead = _h({"system": system if system is not None else list(messages[:head]),
               "first_user": first_user})
    for kind, value in (("session", session_id), ("route", routing_key)):
        if isinstance(value, str) and value:
            return f"{kind}:{_h(value)}"
    if isinstance(user_id, str) and user_id:
        return f"user:{_h(user_id)}:{lead}"
    return f"lead:{lead}"


class ConversationStore:
    """States by conversation key: at most ``max_conversations`` (least recently used evicted
    first), each dropped ``ttl_s`` seconds after its last use (``clock``, injectable). Every
    method holds one lock for its whole body (safe from threads and the event loop).
    ``on_evict(key)`` listeners hear of every state dropped by the LRU bound, the TTL or
    ``discard`` (not of one replaced by ``put``); they run after the lock is released."""

    def __init__(self, max_conversations: int = 4096, ttl_s: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic):
        if max_conversations < 1 or ttl_s <= 0:
            raise ValueError("need max_conversations >= 1 and ttl_s > 0")
        self.max_conversations, self.ttl_s, self.clock = max_conversations, ttl_s, clock
        self._states: OrderedDict[str, tuple[float, ConversationState]] = OrderedDict()
        self._lock = threading.Lock()
        self.on_evict: list[Callable[[str], None]] = []
        self._dropped: list[str] = []     # keys dropped under the lock, told after it

    def _expire(self, now: float) -> None:
        while self._states:
            key, (used, _) = next(iter(self._states.items()))
            if now - used < self.ttl_s:
                break
            del self._states[key]
            self._dropped.append(key)

    def _tell(self) -> None:
        """Tell the listeners of the keys dropped (called with the lock released)."""
        with self._lock:
            dropped, self._dropped = self._dropped, []
        for key in dropped:
            for listener in self.on_evict:
                listener(key)

    def get(self, key: str) -> Optional[ConversationState]:
        """The live state under ``key`` (refreshes its LRU position and TTL), or None."""
        with self._lock:
            now = self.clock()
            self._expire(now)
            entry = self._states.pop(key, None)
            if entry is not None:
                self._states[key] = (now, entry[1])
        self._tell()
        return entry[1] if entry is not None else None

    def put(self, key: str, state: ConversationState) -> None:
        """Store (replace) ``key``'s state; evicts the least recently used beyond the bound."""
        with self._lock:
            now = self.clock()
            self._expire(now)
            self._states.pop(key, None)
            self._states[key] = (now, state)
            while len(self._states) > self.max_conversations:
                self._dropped.append(self._states.popitem(last=False)[0])
        self._tell()

    def lookup(self, key: str, messages: Sequence[Message], config: ContextManagement,
               system: Any = None) -> Optional[ConversationState]:
        """``key``'s state if this request extends its history, else None (start fresh)."""
        return usable(self.get(key), messages, config, system)

    def discard(self, key: str) -> None:
        with self._lock:
            if self._states.pop(key, None) is not None:
                self._dropped.append(key)
        self._tell()

    def __len__(self) -> int:
        with self._lock:
            self._expire(self.clock())
            size = len(self._states)
        self._tell()
        return size
