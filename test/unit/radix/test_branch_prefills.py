"""BranchPrefills: a branch that ends with its prefill in flight has that request aborted; a
branch whose prefill landed is forgotten without an abort (scheduling/prefills.py)."""
from types import SimpleNamespace

from agentrt.server.scheduling.prefills import BranchPrefills

from .helpers import make_cache


class FakeScheduler:
    """What BranchPrefills uses of SGLang's Scheduler: the input path, the queue, abort."""

    def __init__(self):
        self.waiting_queue: list = []
        self.aborted: list[str] = []
        self.model_config = SimpleNamespace(vocab_size=1000)

    def process_input_requests(self, reqs) -> None:
        self.waiting_queue += [SimpleNamespace(rid=r.rid) for r in reqs]

    def abort_request(self, req) -> None:
        self.aborted.append(req.rid)
        self.waiting_queue = [r for r in self.waiting_queue if r.rid != req.rid]


def test_an_ended_branch_has_its_prefill_aborted_and_a_landed_one_does_not():
    cache, scheduler = make_cache(), FakeScheduler()
    prefills = BranchPrefills(scheduler)
    cache.open_session("s", [1, 2, 3])
    cache.open_session("t", [4, 5, 6])
    dead = cache.prepare("s", [1, 2, 7, 8, 9], "clear", 1)
    kept = cache.prepare("t", [4, 5, 8, 8], "clear", 1)
    prefills.submit(cache, dead)
    prefills.submit(cache, kept)
    dead_rid, kept_rid = prefills.in_flight[dead.id], prefills.in_flight[kept.id]

    assert prefills.end_finished(cache) == 0          # both still wait: nothing aborted
    cache.abandon("s", dead.id, "session closed")
    assert prefills.end_finished(cache) == 1
    assert scheduler.aborted == [dead_rid] and dead.id not in prefills.in_flight

    cache.book.landed(kept, node=None)                # its prefill landed: ready
    assert prefills.end_finished(cache) == 0
    assert kept.id not in prefills.in_flight and kept_rid not in scheduler.aborted


def test_a_prepare_answers_its_decision_at_once_then_is_waited_on_or_withdrawn():
    """The two-call prepare (control/ops.py): without ``wait`` the answer comes at once
    (``preparing``); ``wait`` parks until the prefill ended; ``withdraw`` abandons the branch and
    its prefill is aborted, and a withdrawn version is refused when it arrives late."""
    from agentrt.server.control import ops

    cache, scheduler = make_cache(), FakeScheduler()
    prefills = BranchPrefills(scheduler)
    cache.open_session("s", [1, 2, 3])
    args = {"session_id": "s", "tokens": [1, 2, 7, 8], "strategy": "clear", "version": 1}
    answer = ops.run(cache, "prepare", args, prefills)["result"]
    assert answer["outcome"] == "preparing"
    waited = ops.run(cache, "wait", {"session_id": "s", "branch_id": answer["id"]}, prefills)
    assert waited["wait"].branch_id == answer["id"]             # parked until the prefill ends
    gone = ops.run(cache, "withdraw", {"session_id": "s", "strategy": "clear", "version": 1,
                                       "reason": "withdrawn: the commit came first"})
    assert gone["result"] == {"withdrawn": [answer["id"]]}
    assert prefills.end_finished(cache) == 1 and len(scheduler.aborted) == 1
    ended = ops.run(cache, "wait", {"session_id": "s", "branch_id": answer["id"]}, prefills)
    assert ended["result"]["outcome"] == "abandoned"            # answered at once now
    ops.run(cache, "withdraw", {"session_id": "s", "strategy": "clear", "version": 2})
    late = ops.run(cache, "prepare", dict(args, version=2), prefills)
    assert late["status"] == 409 and "withdrawn" in late["error"]
