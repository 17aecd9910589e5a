"""The operations the HTTP process may ask of the scheduler's LookaheadRadixCache.

A registry: op name -> function(cache, args[, prefills]) -> JSON-able dict, or ``Wait``. Each
runs in the scheduler's own thread (see endpoint.py), so it may mutate the tree. A LookaheadError
becomes ``{"error": message, "status": http_status}`` and, by the cache's contract, changed
nothing. Prepare and append start the branch's prefill themselves (scheduling/prefills.py); with
``wait`` their answer is a ``Wait``: the endpoint answers when the prefill ended.
"""
import math
from typing import Callable, NamedTuple, Optional

from agentrt.lookahead.capacity import ServerLoad, StartDecision, decide_start, lookback_s
from agentrt.radix.branch import LookaheadError, common_prefix_len
from agentrt.radix.visualize import snapshot
from agentrt.server.scheduling.prefills import awaits_prefill, outcome

OPS: dict[str, Callable] = {}
WITH_PREFILLS: set[str] = set()    # ops that also take the scheduler's BranchPrefills


class Wait(NamedTuple):
    """The op's answer waits for this branch's prefill to end (endpoint.py parks the call);
    ``extra`` joins that answer."""
    branch_id: str
    asked_tokens: int
    extra: Optional[dict] = None


def op(name: str, prefills: bool = False):
    def register(fn):
        OPS[name] = fn
        if prefills:
            WITH_PREFILLS.add(name)
        return fn
    return register


def _session_json(cache, session_id: str) -> dict:
    session = cache.book.session(session_id)
    pin = cache.pins.get(session_id)
    return {"session_id": session.id, "context_tokens": len(session.context),
            "branches": [cache.book.branches[b].to_json() for b in session.branches],
            "pin": pin.to_json(cache.clock()) if pin else None}


@op("open_session")
def open_session(cache, a):
    cache.open_session(a["session_id"], a.get("tokens"))
    return _session_json(cache, a["session_id"])


@op("close_session")
def close_session(cache, a):
    cache.close_session(a["session_id"])
    return {"session_id": a["session_id"], "closed": True}


@op("status")
def status(cache, a):
    return _session_json(cache, a["session_id"])


def _started(cache, prefills, branch, asked_tokens: int, wait: bool):
    """Start the branch's prefill; the answer now, or a ``Wait`` for it to end."""
    prefills.submit(cache, branch)
    if wait and awaits_prefill(branch):
        return Wait(branch.id, asked_tokens)
    return outcome(branch, asked_tokens)


def admission(cache, session_id: str, tokens: list[int], window_s: Optional[float],
              later_window_s: Optional[float] = None,
              commit_tokens: Optional[int] = None) -> Optional[StartDecision]:
    """Capacity-aware start (lookahead/capacity.py) with this server's own load, and the
    session's risk of ending before its commit (lookahead/job_length.py) when the caller sent
    the size its commit comes at; None when the caller sent no idle window (a preparation the
    commit waits on, or the check is off)."""
    from agentrt.server.scheduling.stats import STATS

    if window_s is None:
        return None
    session = cache.book.session(session_id)
    end_risk = None if commit_tokens is None else cache.job_lengths.end_risk(
        session.job_tokens, session.job_tokens + max(0, int(commit_tokens)
                                                     - len(session.context)))
    shared = common_prefix_len(tokens, session.context)
    lacking = len(tokens) - shared
    load = ServerLoad(branch_ms_per_token(shared, lacking),
                      STATS.foreground_busy_share(lookback_s=lookback_s(float(window_s))),
                      cache.book.backlog_tokens(),
                      None if not later_window_s else STATS.peak_foreground_share(
                          float(later_window_s)))
    return decide_start(load, lacking, float(window_s),
                        None if later_window_s is None else float(later_window_s),
                        end_risk, cache.settings.max_end_risk)


def branch_ms_per_token(start: int, tokens: int) -> float:
    """The price per token of prefilling a branch's ``tokens`` from context position ``start``
    in background chunks: from the server's fitted step cost (scheduling/prefill_cost.py),
    else what branch prefills, else all prefills, cost per token so far (0: not measured)."""
    from agentrt.server.scheduling.hooks import background_policy
    from agentrt.server.scheduling.policy import time_bounded_chunk
    from agentrt.server.scheduling.stats import STATS

    chunk = time_bounded_chunk(background_policy(), STATS.prefill_ms_per_token)
    priced = STATS.prefill_cost.price_ms(start, tokens, chunk)
    if priced and tokens > 0:
        return priced / tokens
    return STATS.branch_ms_per_token or STATS.prefill_ms_per_token


@op("prepare", prefills=True)
def prepare(cache, a, prefills):
    """Register the branch and start its prefill; ``deferred`` (nothing registered, nothing
    spent) when it would not finish in the idle time the caller expects (``window_s``)."""
    decision = admission(cache, a["session_id"], a["tokens"], a.get("window_s"),
                         a.get("later_window_s"), a.get("commit_tokens"))
    checked = {} if decision is None else {"admission": decision._asdict()}
    if decision is not None and not decision.start:
        return dict(checked, outcome="deferred", reason=decision.reason)
    branch = cache.prepare(a["session_id"], a["tokens"], a["strategy"], a["version"],
                           a.get("source_signature", ""))
    if a.get("promote"):
        promote(cache, a)
    answer = _started(cache, prefills, branch, len(a["tokens"]), bool(a.get("wait")))
    if isinstance(answer, Wait):
        return answer._replace(extra=checked)
    return dict(answer, **checked)


@op("append", prefills=True)
def append(cache, a, prefills):
    """Catch-up: ``context`` (the branch's whole new context, which must extend it) or
    ``tokens`` (what to append). Refused (413, nothing changed) when the branch would outgrow
    ``max_tokens``; 409 when ``context`` does not extend the branch."""
    branch = cache.book.branch(a["session_id"], a["branch_id"])
    extra = a.get("tokens")
    if extra is None:
        context = a["context"]
        if context[:len(branch.tokens)] != branch.tokens:
            raise LookaheadError(f"the context does not extend branch {branch.id}", 409)
        extra = context[len(branch.tokens):]
    asked = len(branch.tokens) + len(extra)
    limit = a.get("max_tokens")
    if limit and asked > limit:
        raise LookaheadError(f"branch {branch.id} would hold {len(branch.tokens)} + "
                             f"{len(extra)} tokens; at most {limit} are accepted", 413)
    if extra:
        cache.append(a["session_id"], a["branch_id"], extra)
        if a.get("promote"):
            promote(cache, a)
    return _started(cache, prefills, branch, asked, bool(a.get("wait")))


@op("wait")
def wait_branch(cache, a):
    """Answered when the branch's prefill ended (at once when it is not prefilling): the second
    half of a prepare sent without ``wait``, whose answer carried the capacity decision."""
    branch = cache.book.branch(a["session_id"], a["branch_id"])
    if awaits_prefill(branch):
        return Wait(branch.id, len(branch.tokens))
    return outcome(branch, len(branch.tokens))


@op("withdraw")
def withdraw(cache, a):
    """The caller committed before the answer to its prepare of ``strategy`` ``version`` came:
    it never registers, or its branch is abandoned with what it landed kept as cache."""
    ended = cache.withdraw(a["session_id"], a["strategy"], a["version"],
                           a.get("reason", "withdrawn"))
    return {"withdrawn": [b.id for b in ended]}


@op("commit", prefills=True)
def commit(cache, a, prefills):
    """The swap; a catch-up of the branch still prefilling is aborted (the commit request
    carries its tokens and prefills what did not land; what landed stays for it)."""
    branch = cache.commit(a["session_id"], a["branch_id"])
    return {"branch": branch.to_json(), "session": _session_json(cache, a["session_id"]),
            "background_tokens": cache.ledger.branch_tokens(branch.id),
            "catch_up_aborted": prefills.overtake(branch.id)}


@op("abandon")
def abandon(cache, a):
    return cache.abandon(a["session_id"], a["branch_id"], a.get("reason", "abandoned"),
                         keep_cache=bool(a.get("keep_cache", False))).to_json()


@op("stale")
def stale(cache, a):
    return cache.mark_stale(a["session_id"], a["branch_id"], a.get("reason", "stale")).to_json()


@op("pin")
def pin(cache, a):
    ttl_s = a.get("ttl_s")
    if ttl_s is not None and not (isinstance(ttl_s, (int, float)) and math.isfinite(ttl_s)):
        raise LookaheadError("ttl_s must be a finite number of seconds")
    p = cache.pin(a["session_id"], a.get("tool"), ttl_s)
    return {"pinned": p is not None, "pin": p.to_json(cache.clock()) if p else None}


@op("unpin")
def unpin(cache, a):
    return {"unpinned": cache.unpin(a["session_id"], a.get("reason", "client"))}


@op("promote")
def promote(cache, a):
    from agentrt.server.scheduling.stats import STATS

    promoted = cache.promote(a["session_id"])
    STATS.promoted += len(promoted)
    return {"promoted": promoted}


@op("scheduler")
def scheduler_status(cache, a):
    from agentrt.server.scheduling import hooks
    from agentrt.server.scheduling.stats import STATS

    policy = hooks._State.policy
    return {"policy": {k: getattr(policy, k) for k in policy.__dataclass_fields__},
            "stats": STATS.to_json(), "pinned_tokens": sum(p.tokens for p in cache.pins.values()),
            "held_by_lookahead": cache.held_tokens(), "promoted_branches": sorted(cache.promoted),
            "backlog_tokens": cache.book.backlog_tokens(),
            "ledger": cache.ledger.to_json(),
            "ended_jobs": cache.job_lengths.to_json(),
            "kv": {"total": cache.token_to_kv_pool_allocator.size,
                   "available": cache.token_to_kv_pool_allocator.available_size(),
                   "evictable": cache.evictable_size(), "protected": cache.protected_size()}}


@op("snapshot")
def take_snapshot(cache, a):
    return snapshot(cache, match=a.get("match"))


@op("check_integrity")
def check_integrity(cache, a):
    cache.check_integrity()
    return {"ok": True}


def run(cache, name: str, args: dict, prefills=None) -> dict:
    """Execute one op; never raises (errors become a status the HTTP side answers with).
    ``{"result": ...}``, ``{"error": ..., "status": ...}`` or ``{"wait": Wait}``."""
    fn = OPS.get(name)
    if fn is None:
        return {"error": f"unknown op {name!r}", "status": 400}
    if cache is None:
        return {"error": "the lookahead radix cache is not active on this server "
                         "(--radix-cache-backend agentrt_lookahead)", "status": 503}
    try:
        result = fn(cache, args, prefills) if name in WITH_PREFILLS else fn(cache, args)
        return {"wait": result} if isinstance(result, Wait) else {"result": result}
    except LookaheadError as exc:
        return {"error": str(exc), "status": exc.status}
    except (KeyError, TypeError) as exc:
        return {"error": f"malformed arguments for {name}: {exc}", "status": 400}
    except Exception as exc:  # noqa: BLE001 - never take the scheduler down
        return {"error": f"{type(exc).__name__}: {exc}", "status": 500}
