"""The background backlog: tokens unfinished branch prefills still ask for (capacity.py)."""
from agentrt.radix.branch import BranchBook, BranchState


def test_backlog_counts_preparing_branches_past_their_fork_and_pending_catch_ups():
    book = BranchBook()
    book.open_session("s", [1, 2, 3, 4])
    a = book.new_branch("s", [1, 2, 9, 9, 9], "clear", 1, "sig")      # forks after 2 tokens
    assert book.backlog_tokens() == 3
    book.landed(a, node=None)
    assert book.backlog_tokens() == 0                                  # ready: nothing queued
    book.start_catch_up(a, [7, 7])
    assert book.backlog_tokens() == 2
    book.open_session("t", [5, 6])
    book.new_branch("t", [5, 8, 8, 8], "offload", 1, "sig")
    assert book.backlog_tokens() == 2 + 3
    book.cancel_catch_up(a, "preempted")
    assert a.state is BranchState.READY and book.backlog_tokens() == 3
