"""SyncLookaheadRuntime: the LookaheadRuntime for synchronous agent loops (its event loop runs
in a background thread, so preparation keeps going between the agent's blocking calls)."""
import asyncio
import threading

from agentrt.lookahead.client import AgentrtClient
from agentrt.lookahead.runtime import LookaheadRuntime
from agentrt.lookahead.strategy import LookaheadStrategy


class SyncLookaheadRuntime:
    """A thin synchronous facade: the runtime's event loop runs in a background thread, so
    preparation keeps going between the agent's (blocking) calls."""

    def __init__(self, base_url: str, strategy: LookaheadStrategy, **kw):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="agentrt-lookahead")
        self._thread.start()
        self._client = self._run(self._make_client(base_url))
        self.runtime = LookaheadRuntime(self._client, strategy, **kw)

    @staticmethod
    async def _make_client(base_url):
        return AgentrtClient(base_url)

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def on_segment_boundary(self, messages):
        return self._run(self.runtime.on_segment_boundary(messages))

    def on_commit(self, messages):
        return self._run(self.runtime.on_commit(messages))

    def chat(self, messages, **kw):
        return self._run(self.runtime.chat(messages, **kw))

    def settle(self):
        return self._run(self.runtime.settle())

    @property
    def records(self):
        return self.runtime.records

    def close(self):
        self._run(self.runtime.close())
        self._run(self._client.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
