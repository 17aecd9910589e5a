"""The operations the HTTP process may ask of the scheduler's LookaheadRadixCache.

A registry: op name -> function(cache, args) -> JSON-able dict. Each runs in the scheduler's own
thread (see endpoint.py), so it may mutate the tree. A LookaheadError becomes
``{"error": message, "status": http_status}`` and, by the cache's contract, changed nothing.
"""
import math
from typing import Callable

from agentrt.radix.branch import LookaheadError
from agentrt.radix.visualize import snapshot

OPS: dict[str, Callable] = {}


def op(name: str):
    def register(fn):
        OPS[name] = fn
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


def _with_target(branch) -> dict:
    """Branch JSON plus the tokens its prefill request must carry (saves a round trip)."""
    target = branch.pending_tokens if branch.pending_tokens is not None else branch.tokens
    return dict(branch.to_json(), target=list(target))


@op("prepare")
def prepare(cache, a):
    branch = cache.prepare(a["session_id"], a["tokens"], a["strategy"], a["version"],
                           a.get("source_signature", ""))
    if a.get("promote"):
        promote(cache, a)
    return _with_target(branch)


@op("append")
def append(cache, a):
    """Catch-up; refused (413, nothing changed) when the branch would outgrow ``max_tokens``."""
    limit = a.get("max_tokens")
    branch = cache.book.branch(a["session_id"], a["branch_id"])
    if limit and len(branch.tokens) + len(a["tokens"]) > limit:
        raise LookaheadError(f"branch {branch.id} would hold {len(branch.tokens)} + "
                             f"{len(a['tokens'])} tokens; at most {limit} are accepted", 413)
    return _with_target(cache.append(a["session_id"], a["branch_id"], a["tokens"]))


@op("commit")
def commit(cache, a):
    branch = cache.commit(a["session_id"], a["branch_id"])
    return {"branch": branch.to_json(), "session": _session_json(cache, a["session_id"]),
            "background_tokens": cache.ledger.branch_tokens(branch.id)}


@op("prefill_ended")
def prefill_ended(cache, a):
    """The HTTP side saw a branch's prefill request end where the scheduler may not have (it
    failed before reaching it): the tree decides as for any ended prefill."""
    branch = cache.book.branch(a["session_id"], a["branch_id"])
    cache.prefill_ended(branch.id, a["reason"])
    return branch.to_json()


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


def run(cache, name: str, args: dict) -> dict:
    """Execute one op; never raises (errors become a status the HTTP side answers with)."""
    fn = OPS.get(name)
    if fn is None:
        return {"error": f"unknown op {name!r}", "status": 400}
    if cache is None:
        return {"error": "the lookahead radix cache is not active on this server "
                         "(--radix-cache-backend agentrt_lookahead)", "status": 503}
    try:
        return {"result": fn(cache, args)}
    except LookaheadError as exc:
        return {"error": str(exc), "status": exc.status}
    except (KeyError, TypeError) as exc:
        return {"error": f"malformed arguments for {name}: {exc}", "status": 400}
    except Exception as exc:  # noqa: BLE001 - never take the scheduler down
        return {"error": f"{type(exc).__name__}: {exc}", "status": 500}
