"""The attributes agentrt reads or writes on SGLang's objects: one table, checked at start-up.

Code that touches an SGLang object (a scheduler, a request, a batch, a prefill adder) uses these
attributes directly (``req.rid``, never ``getattr(req, "rid", None)``): a rename in SGLang fails
here, loudly, when the scheduler starts, instead of silently reading a default. The check runs
on the live Scheduler right after its ``__init__`` (control/endpoint.py), on a probe request,
and on the first prefill adder (hooks.py), which SGLang builds for its warm-up request.

Attributes of classes SGLang declares as dataclasses are checked against their fields.
"""
import dataclasses

ATTRIBUTES = {
    "Scheduler": ("tree_cache", "waiting_queue", "running_batch", "chunked_req",
                  "_pending_chunked_abort_req", "abort_request", "idle_sleeper",
                  "process_input_requests", "model_config"),
    "Req": ("rid", "priority", "session_id", "origin_input_ids", "prefix_len", "time_stats",
            "full_untruncated_fill_ids", "finished"),
    "SchedulerReqTimeStats": ("wait_queue_entry_time", "created_time"),
    "ScheduleBatch": ("reqs", "forward_mode", "prefix_lens", "extend_lens", "decoding_reqs"),
    "PrefillAdder": ("tree_cache", "running_batch", "can_run_list", "rem_chunk_tokens",
                     "new_chunked_req"),
}


class SglangObjectError(RuntimeError):
    """An SGLang object lacks attributes agentrt uses: this SGLang is not the pinned one."""


def missing(kind: str, obj) -> list[str]:
    """The attributes of ``ATTRIBUTES[kind]`` that ``obj`` (an instance, or a dataclass) lacks."""
    if isinstance(obj, type) and dataclasses.is_dataclass(obj):
        names = {f.name for f in dataclasses.fields(obj)} | set(dir(obj))
        return [a for a in ATTRIBUTES[kind] if a not in names]
    return [a for a in ATTRIBUTES[kind] if not hasattr(obj, a)]


def check(kind: str, obj) -> None:
    lacking = missing(kind, obj)
    if lacking:
        raise SglangObjectError(f"SGLang's {kind} has no {', '.join(lacking)}: agentrt needs "
                                "sglang==0.5.23 (run `make setup`)")


def probe_request():
    """A request object as the scheduler builds them (never scheduled)."""
    from sglang.srt.managers.schedule_batch import Req
    from sglang.srt.sampling.sampling_params import SamplingParams

    return Req("agentrt-probe", "", [0], SamplingParams())


def check_scheduler(scheduler) -> None:
    """Start-up check of the scheduler, a probe request and the batch class."""
    from sglang.srt.managers.schedule_batch import ScheduleBatch

    check("Scheduler", scheduler)
    req = probe_request()
    check("Req", req)
    check("SchedulerReqTimeStats", req.time_stats)
    check("ScheduleBatch", ScheduleBatch)
