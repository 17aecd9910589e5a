"""SyncLookaheadRuntime: the LookaheadRuntime for synchronous agent loops (its event loop runs
in a LoopThread, so preparation keeps going between the agent's blocking calls)."""
from agentrt.lookahead.client import AgentrtClient
from agentrt.lookahead.loop_thread import LoopThread
from agentrt.lookahead.runtime import LookaheadRuntime
from agentrt.lookahead.strategy import LookaheadStrategy


class SyncLookaheadRuntime:
    """A thin synchronous facade over ``runtime`` (a LookaheadRuntime on the loop thread)."""

    def __init__(self, base_url: str, strategy: LookaheadStrategy, **kw):
        self._thread = LoopThread("agentrt-lookahead")
        self.client = self.run(self._make_client(base_url))
        self.runtime = LookaheadRuntime(self.client, strategy, **kw)

    @staticmethod
    async def _make_client(base_url):
        return AgentrtClient(base_url)

    def run(self, coro):
        """Run a coroutine on the runtime's loop and wait for its result."""
        return self._thread.run(coro)

    def on_segment_boundary(self, messages):
        return self.run(self.runtime.on_segment_boundary(messages))

    def on_commit(self, messages):
        return self.run(self.runtime.on_commit(messages))

    def chat(self, messages, **kw):
        return self.run(self.runtime.chat(messages, **kw))

    def settle(self):
        return self.run(self.runtime.settle())

    @property
    def records(self):
        return self.runtime.records

    @property
    def start_decisions(self):
        """The capacity check's decisions, oldest first (``LookaheadRuntime.start_decisions``)."""
        return self.runtime.start_decisions

    def close(self):
        self.run(self.runtime.close())
        self.run(self.client.close())
        self._thread.close()
