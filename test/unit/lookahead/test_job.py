"""The client job's state machine and the commit records' one writer (no server, no loop)."""
import json

import pytest

from agentrt.lookahead.job import Job, JobState, Lane
from agentrt.lookahead.records import CommitLog, CommitRecord, Outcome

S = JobState


def job(**kw):
    return Job(version=1, segment_end=3, source_signature="sig", **kw)


def test_prepare_catch_up_commit():
    j = job()
    assert j.state is S.PREPARING and j.lane is Lane.BACKGROUND
    j.prepared("b1", [1, 2, 3])
    assert (j.state, j.branch_id, j.covered) == (S.READY, "b1", 3)
    j.latest = [{}] * 5
    assert j.wants_catch_up()
    j.caught_up([1, 2, 3, 4], 5, [{}, {}])
    assert not j.wants_catch_up() and j.state is S.READY
    j.commit()
    j.swapped()
    assert j.state is S.COMMITTED
    j.failed("catch-up failed: late")          # a catch-up ending after the commit: ignored
    assert j.state is S.COMMITTED and j.reason == ""


@pytest.mark.parametrize("events, state", [
    (["commit", "prepared"], S.COMMITTING),     # landed while the commit awaited it
    (["commit", "unchanged"], S.DEFERRED),
    (["commit", "failed"], S.FAILED),
    (["prepared", "behind", "commit"], S.COMMITTING),
    (["prepared", "behind", "behind"], S.BEHIND),
    (["unchanged", "commit"], S.DEFERRED),
    (["failed", "commit", "swapped"], S.FAILED),
    (["failed", "stale"], S.STALE),
    (["prepared", "stale", "prepared", "failed"], S.STALE),
])
def test_events_that_do_not_apply_change_nothing(events, state):
    j = job()
    for event in events:
        {"prepared": lambda: j.prepared("b1", [1]), "failed": lambda: j.failed("x")}.get(
            event, getattr(j, event))()
    assert j.state is state


def test_no_catch_up_unless_ready():
    for events in (["behind"], ["commit"], ["failed"]):
        j = job()
        j.prepared("b1", [1])
        j.latest = [{}] * 9
        getattr(j, events[0])(*(["x"] if events[0] == "failed" else []))
        assert not j.wants_catch_up()


def test_commit_log_completes_records():
    log = CommitLog()
    i = log.add(CommitRecord(Outcome.READY, "window", 10, 0.1))
    log.request_sent(0.5, 10)
    log.request_sent(0.9, 0)                   # not a commit request: nothing changes
    assert log.records[i].ttft_s == 0.5 and log.records[i].cached_tokens == 10
    j = log.add(CommitRecord(Outcome.PROMOTED, "window", 10, 0.1))
    log.refused(j, "commit failed: HTTP 409")
    assert log.records[j].outcome is Outcome.FALLBACK and log.records[j].prepared_tokens == 0
    log.measured(j, 0.7, 3)
    log.request_sent(0.2, 1)                   # already measured by the frontend
    assert log.records[j].ttft_s == 0.7


def test_outcomes_are_their_strings():
    assert Outcome.READY == "ready" and f"{Outcome.STALE}" == "stale"
    assert json.dumps({"outcome": Outcome.SYNC}) == '{"outcome": "sync"}'
    assert [o.value for o in Outcome] == ["ready", "promoted", "stale", "fallback", "sync",
                                          "deferred"]
    assert Outcome.PROMOTED.swapped and not Outcome.FALLBACK.swapped
