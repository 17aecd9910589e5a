"""``agentrt.lookahead`` exports the runtime, its records, the strategy types and strategies."""
import subprocess
import sys

import pytest

import agentrt.lookahead as lookahead


def test_public_names():
    from agentrt.lookahead import (ClearToolResults, CommitRecord, ContextBudget,
                                   LookaheadRuntime, LookaheadStrategy, SyncLookaheadRuntime)
    from agentrt.lookahead.runtime import LookaheadRuntime as direct

    assert LookaheadRuntime is direct and issubclass(ClearToolResults, LookaheadStrategy)
    assert CommitRecord._fields[0] == "outcome" and ContextBudget(100).hard == 0.8
    assert SyncLookaheadRuntime.__name__ == "SyncLookaheadRuntime"
    for name in lookahead.__all__:
        assert getattr(lookahead, name) is not None


def test_internals_are_not_exported():
    with pytest.raises(AttributeError):
        lookahead.GROWTH_WINDOW


def test_strategy_module_does_not_import_the_http_client():
    code = ("import sys, agentrt.lookahead.strategy; "
            "assert 'httpx' not in sys.modules and 'agentrt.lookahead.client' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
