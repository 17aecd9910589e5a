"""The demo agent's loop against the real server: context grows, the prefix cache keeps hitting."""
from pathlib import Path

from agentrt.demo.agent import RepoReviewAgent

REPO = Path(__file__).resolve().parents[2]


def test_agent_turns_grow_context_and_reuse_cache(url):
    turns = list(RepoReviewAgent(url, REPO, reads=2, max_tokens=8).run())
    assert [t.index for t in turns] == [1, 2, 3, 4]
    prompts = [t.result.prompt_tokens for t in turns]
    assert prompts == sorted(prompts) and prompts[-1] > prompts[0]
    # every later turn re-uses (most of) the previous turn's context
    for prev, turn in zip(turns, turns[1:]):
        assert turn.result.cached_tokens >= prev.result.prompt_tokens * 0.9
    assert turns[1].tool_call.startswith('<tool_call>{"name": "read_file"')
