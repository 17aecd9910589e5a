"""Branch prefills: the scheduler starts them, ends them and says what became of the branch.

A ``prepare`` or ``append`` op registers the branch in the tree and, in the same scheduler step,
submits the background request that prefills it (``BranchPrefills.submit``): the request is
built here from the branch's own target tokens and handed to SGLang's input path
(``Scheduler.process_input_requests``), so a preparation's token ids cross from the HTTP process
into the scheduler once, in the op, and never back. The rid names the branch (radix/rids.py).
Nobody in the HTTP process waits on that request: its output is dropped before the detokenizer
(``around_stream_output``). The tree decides what became of the branch when the request is
cached or ends (``LookaheadRadixCache.checkpoint`` / ``release_aborted_request``); a caller that
asked to wait is answered then, with ``outcome`` (control/endpoint.py parks it until
``awaits_prefill`` is false).

Rules:
- one prefill request per branch in flight (callers chain their catch-ups);
- a commit overtakes a catch-up still in flight: its request is aborted here (what landed stays
  in the tree; the commit request prefills the rest);
- a branch that ends (abandoned, stale, its session closed) with its prefill in flight has that
  request aborted at the next control drain, so at most the chunk already running lands for it
  (counted ``late`` by the ledger): a dead branch's remaining chunks never take a batch;
- a request SGLang does not queue ends the branch's wait as any ended prefill does.
"""
import uuid
from typing import Optional

from agentrt.radix.branch import Branch, BranchState
from agentrt.radix.rids import parse_prepare_rid, prepare_rid
from agentrt.server.http.agent_fields import BACKGROUND_PRIORITY


def awaits_prefill(branch: Optional[Branch]) -> bool:
    """The branch waits for a prefill request: a first preparation, or a catch-up."""
    return branch is not None and branch.state.live and (
        branch.state is BranchState.PREPARING or branch.pending_tokens is not None)


def outcome(branch: Branch, asked_tokens: int) -> dict:
    """What a prepare or append that waited learns: the branch, and ``outcome``: ``ready`` (it
    holds every token asked for), ``cancelled`` (a catch-up ended without landing: the branch
    is ready as it was), ``committed``, ``abandoned`` or ``stale``; ``preparing`` to a caller that
    did not wait; ``reason`` from its last transition."""
    state = branch.state
    if awaits_prefill(branch):
        result = "preparing"
    elif state is BranchState.READY:
        result = "ready" if len(branch.tokens) >= asked_tokens else "cancelled"
    else:
        result = state.value
    reason = branch.history[-1].reason if branch.history else ""
    return dict(branch.to_json(), outcome=result, reason=reason)


class BranchPrefills:
    """The scheduler's branch-prefill requests in flight, by branch id."""

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.in_flight: dict[str, str] = {}    # branch id -> rid of its prefill request

    def submit(self, cache, branch: Branch) -> None:
        """Start the branch's prefill (nothing when the tree already held all its tokens, or
        when its request is in flight already: a retried prepare)."""
        self.end_finished(cache)
        if not awaits_prefill(branch) or branch.id in self.in_flight:
            return
        rid = prepare_rid(branch.session_id, branch.id, uuid.uuid4().hex[:8])
        self.in_flight[branch.id] = rid
        self.scheduler.process_input_requests([self._request(rid, branch.target_tokens)])
        if not any(req.rid == rid for req in self.scheduler.waiting_queue) \
                and awaits_prefill(branch):
            self.in_flight.pop(branch.id, None)
            cache.prefill_ended(branch.id, "the scheduler did not queue the prefill")

    def overtake(self, branch_id: str) -> bool:
        """Abort the branch's prefill still in flight (a committed branch's catch-up, an ended
        branch's preparation). Whether one was."""
        from sglang.srt.managers.io_struct import AbortReq

        rid = self.in_flight.pop(branch_id, None)
        if rid is None:
            return False
        self.scheduler.abort_request(AbortReq(rid=rid))
        return True

    def end_finished(self, cache) -> int:
        """Drop the rids of branches that no longer wait for their prefill; abort the request
        of each that ended before it landed (gone, or no longer live). How many it aborted."""
        aborted = 0
        for branch_id in [b for b in self.in_flight
                          if not awaits_prefill(cache.book.branches.get(b))]:
            branch = cache.book.branches.get(branch_id)
            if branch is None or not branch.state.live:
                aborted += self.overtake(branch_id)
            else:
                del self.in_flight[branch_id]
        return aborted

    def _request(self, rid: str, tokens: list[int]):
        """A one-token greedy background request over ``tokens``, as the tokenizer would send."""
        from array import array

        from sglang.srt.managers.io_struct import TokenizedGenerateReqInput
        from sglang.srt.sampling.sampling_params import SamplingParams

        params = SamplingParams(max_new_tokens=1, temperature=0.0)
        params.normalize(None)
        params.verify(self.scheduler.model_config.vocab_size)
        return TokenizedGenerateReqInput(
            rid=rid, input_text=None, input_ids=array("q", tokens), input_embeds=None,
            mm_inputs=None, token_type_ids=None, sampling_params=params, return_logprob=False,
            logprob_start_len=-1, top_logprobs_num=0, token_ids_logprob=None, stream=False,
            priority=BACKGROUND_PRIORITY)


def around_stream_output(original, streamer, reqs, *args, **kwargs):
    """AROUND ``SchedulerOutputStreamer.stream_output``: branch prefills send nothing to the detokenizer
    (the scheduler started them; no HTTP request waits on their token)."""
    kept = [req for req in reqs if parse_prepare_rid(req.rid) is None]
    if len(kept) == len(reqs):
        return original(streamer, reqs, *args, **kwargs)
    if kept:
        return original(streamer, kept, *args, **kwargs)
    return None
