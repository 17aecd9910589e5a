"""What the end-risk check (lookahead/job_length.py) reads from the tree: a session's job length
grows with its turns, a closed session teaches it, and a preparation it rules out registers
nothing."""
from agentrt.lookahead.job_length import MIN_JOBS
from agentrt.radix.branch import BranchBook
from agentrt.server.control import ops

from .helpers import make_cache


def test_the_jobs_length_counts_each_turns_growth_not_a_commits_shrink():
    book = BranchBook()
    s = book.open_session("s", [1, 2, 3])
    assert s.job_tokens == 3
    book.set_context("s", [1, 2, 3, 4, 5])
    book.set_context("s", [1, 2, 3, 4, 5, 6])
    assert s.job_tokens == 6
    b = book.new_branch("s", [1, 9], "clear", 1, "sig")
    book.landed(b, node=None)
    book.commit("s", b.id)                       # the context shrinks to the branch's 2 tokens
    book.set_context("s", [1, 9, 7, 7])
    assert s.job_tokens == 8                     # + the 2 the turn after the commit added
    book.forget_tree("reset")                    # the tree is gone: the next turn's growth is
    book.set_context("s", [1, 9, 7, 7, 8])       # not known, and not counted as the whole
    assert s.job_tokens == 8
    book.set_context("s", [1, 9, 7, 7, 8, 8])
    assert s.job_tokens == 9


def test_a_closed_session_teaches_its_length_and_a_likely_end_registers_nothing():
    cache = make_cache()
    for i in range(MIN_JOBS):                   # jobs that ended at 40 tokens
        cache.open_session(f"old-{i}", list(range(40)))
        cache.close_session(f"old-{i}")
    assert len(cache.job_lengths) == MIN_JOBS
    cache.open_session("s", list(range(30)))
    args = {"session_id": "s", "tokens": list(range(20)) + [99] * 5, "strategy": "clear",
            "version": 1, "window_s": 100.0, "commit_tokens": 60}
    answer = ops.run(cache, "prepare", args, None)["result"]
    assert answer["outcome"] == "deferred" and answer["reason"].startswith("ends first")
    assert answer["admission"]["end_risk"] == 1.0
    assert cache.book.branches == {} and cache.book.backlog_tokens() == 0
