"""LoopThread: an asyncio event loop in a daemon thread, for callers that block.

The lookahead runtime's background work (transform, prepare, catch-up) keeps going on the loop
while the caller's threads block on model calls and tools: used by ``SyncLookaheadRuntime`` and
by the frontend's ``AgentrtBackend``.
"""
import asyncio
import threading
from collections.abc import Awaitable
from typing import Any


class LoopThread:
    def __init__(self, name: str = "agentrt-loop"):
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name=name)
        self._thread.start()

    def run(self, coro: Awaitable, timeout_s: float | None = None) -> Any:
        """Run ``coro`` on the loop and wait for its result (its exception is raised here)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("LoopThread.run called from its own loop (would deadlock)")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def close(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
