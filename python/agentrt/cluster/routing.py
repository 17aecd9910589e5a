"""Session affinity behind SGLang's router (smg): the routing key a request carries, the worker it
landed on, and where each session lives (pure bookkeeping, no I/O).

Rules:
  - every request of a session carries ``X-SMG-Routing-Key: <session id>`` (smg's ``manual``
    policy keeps a key on one worker until that worker is unhealthy); session ids are at most 128
    characters of the id alphabet (``server/http/fields.py``), so a session id is a valid key;
  - the router stamps each response with ``x-smg-routed-worker-id: <worker URL>``: that worker is
    the session's *home*; control calls (``/agentrt/*``, which the router does not proxy) go to
    the home worker directly;
  - when a response names another worker than the recorded home, the session moved (its worker
    vanished or the key expired): ``HomeBook.observe`` reports the move, and the caller reopens
    the session on the new worker (its KV is a cache miss there, never an error).
"""
from typing import NamedTuple, Optional

ROUTING_KEY_HEADER = "X-SMG-Routing-Key"
ROUTED_WORKER_HEADER = "x-smg-routed-worker-id"
MAX_KEY_BYTES = 128


def routing_headers(session_id: str) -> dict[str, str]:
    """The headers that keep ``session_id``'s requests on one worker."""
    if not session_id or len(session_id.encode()) > MAX_KEY_BYTES:
        raise ValueError(f"a routing key is 1-{MAX_KEY_BYTES} bytes, got {session_id[:40]!r}")
    return {ROUTING_KEY_HEADER: session_id}


def routed_worker(headers) -> Optional[str]:
    """The worker URL the router sent a request to (None: no router in between)."""
    for name, value in headers.items():
        if name.lower() == ROUTED_WORKER_HEADER:
            return value.rstrip("/")
    return None


class Move(NamedTuple):
    session_id: str
    old: str
    new: str


class HomeBook:
    """session id -> home worker URL, learned from responses."""

    def __init__(self):
        self._homes: dict[str, str] = {}

    def home(self, session_id: str) -> Optional[str]:
        return self._homes.get(session_id)

    def observe(self, session_id: str, worker: Optional[str]) -> Optional[Move]:
        """Record where a response of the session came from; a Move when it changed home."""
        if worker is None:
            return None
        old = self._homes.get(session_id)
        self._homes[session_id] = worker
        return Move(session_id, old, worker) if old is not None and old != worker else None

    def forget(self, session_id: str) -> None:
        self._homes.pop(session_id, None)

    def sessions_on(self, worker: str) -> list[str]:
        return sorted(s for s, w in self._homes.items() if w == worker)
