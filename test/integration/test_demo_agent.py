"""The demo agent's loop against the real server: context grows, the prefix cache keeps hitting,
and its context policy commits through the lookahead runtime."""
from pathlib import Path

from agentrt.demo.agent import RepoReviewAgent

REPO = Path(__file__).resolve().parents[2]


def test_agent_turns_grow_context_and_reuse_cache(url):
    turns = list(RepoReviewAgent(url, REPO, reads=1, max_tokens=8, budget_tokens=10 ** 6,
                                 session_id="demo-grow").run())
    assert [t.index for t in turns] == [1, 2, 3]
    prompts = [t.result.prompt_tokens for t in turns]
    assert prompts == sorted(prompts) and prompts[-1] > prompts[0]
    for prev, turn in zip(turns, turns[1:]):
        assert turn.result.cached_tokens >= prev.result.prompt_tokens * 0.9
    assert all(t.commit is None for t in turns)
    assert turns[1].tool_call.startswith('<tool_call>{"name": "read_file"')


def test_agent_commit_turn_reuses_the_prepared_context(url):
    turns = list(RepoReviewAgent(url, REPO, reads=4, max_tokens=8, budget_tokens=2600,
                                 session_id="demo-commit",   # the mechanism; no tool time here
                                 capacity_aware=False).run())
    commits = [t for t in turns if t.commit is not None]
    assert commits, "the budget is small enough for the policy to commit"
    first = commits[0]
    assert first.commit.outcome in ("ready", "promoted")
    assert first.result.cached_tokens >= first.commit.prepared_tokens > 0
