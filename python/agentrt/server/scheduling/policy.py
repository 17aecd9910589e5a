"""Lookahead-aware scheduling decisions: pure functions of a snapshot (no SGLang imports).

Two request classes: foreground (latency-critical turns) and background (lookahead prefill,
catch-up, summaries). The SGLang glue (hooks.py) builds a ``Snapshot`` each time the
scheduler forms a prefill batch and asks:

- ``order_waiting``: the waiting-queue order. Promoted work (a commit is waiting on it) first,
  then foreground by the program-level policy, then background oldest first; background that
  waited longer than ``starvation_s`` is aged into the foreground class.
- ``admit_background``: whether one more background request may enter this batch, and with how
  many tokens at most (its chunk), from KV pressure (deny above ``deny_usage``, keep a
  ``reserve``), the background requests in flight, the foreground backlog and the observed step
  time against the TBT SLO. With ``yield_to_foreground`` (the default), background prefill does
  not share a step with foreground work: it is held while a foreground request is prefilling in
  the same batch or decoding, unless a TBT SLO leaves room for a chunk next to the decode step.
- ``continue_background``: the same question for the background request SGLang is already
  chunking: its next chunk, the minimum chunk while it yields (SGLang adds it to a batch before
  the waiting queue, so a foreground request waiting to prefill joins it beside that minimum).
  It is never parked: SGLang counts a chunk in flight for its chunked request whenever a batch
  forms, and a request that sits a batch out never gets that count back, never finishes and
  leaks its KV.
- ``pause_background_chunk``: whether this step decodes instead of running the next chunk of
  that request. SGLang runs a pending chunk before any decode step, so without a pause a chunked
  background prefill starves foreground decoding until its last chunk, however small its
  chunks. Promoted and aged work alternate chunk and decode step.
- ``decode_bounded_tokens`` and ``decode_first``: foreground prefill next to decoding. While
  foreground requests decode, a prefill step holds at most what ``fg_max_chunk_ms`` allows (a
  longer prompt is chunked) and a prefill step that did not decode them (a mixed step does) is
  followed by a decode step, so a decoding request waits at most one bounded step for another's
  prefill (SGLang alone runs a whole prompt, or chunk after chunk, while every decoding request
  waits). Off by default: on this CPU the model time per prefilled token grew 15 % with it and
  the jobs took ~5 % longer (benchmark/README.md, 4 Dec 15:25).
- ``should_preempt``: whether that chunked background request must be aborted to free KV for a
  foreground request that did not fit (its branch is abandoned; the agent falls back or
  re-prepares).
Background work that waited ``starvation_s`` is aged: it competes as foreground and no longer
yields its chunks, though it still lets decoding step between them.

Program-level policies for the foreground (flag ``--agentrt-program-policy``):
  fcfs       arrival order (SGLang's own)
  continuum  programs holding a TTL pin first, then program-level FCFS (first arrival of the
             program), as Continuum schedules multi-turn agents
  agentsched shadow price lambda = usage^2 / (1 - usage) (clipped to [0, 1]) blends
             shortest-job-first (lambda -> 0) with cache preservation (lambda -> 1: requests whose
             prefix is cached go first, new allocations are penalised), after AgentInfer
"""
import enum
from dataclasses import dataclass
from typing import NamedTuple, Optional

from agentrt.config import PROGRAM_POLICY_NAMES


class ReqClass(enum.IntEnum):
    PROMOTED = 0
    FOREGROUND = 1
    BACKGROUND = 2


@dataclass(frozen=True)
class BgPolicy:
    deny_usage: float = 0.85          # deny background admission above this KV usage
    reserve: float = 0.10             # ... or when free KV would fall under this fraction
    max_in_flight: int = 2            # background requests running at once
    chunk_tokens: int = 256           # background prefill chunk
    min_chunk_tokens: int = 64
    yield_chunk_tokens: int = 16      # a running background prefill's chunk while it yields
    backlog_shrink: int = 8           # foreground waiting >= this: chunk shrinks to the minimum
    starvation_s: float = 30.0        # background older than this is treated as foreground
    tbt_slo_ms: float = 0.0           # 0: no step-time target
    program_policy: str = "fcfs"
    yield_to_foreground: bool = True  # no background chunk next to foreground prefill / decode
    max_chunk_ms: float = 1000.0      # a chunk takes at most this long (observed ms per token):
                                      # the longest a foreground arrival waits behind one
    promoted_max_chunk_ms: float = 0.0  # the same bound for a promoted preparation (0: a
                                        # commit waits on it: chunked as a foreground request
                                        # is); it alternates with decode steps
    fg_max_chunk_ms: float = 0.0      # while foreground requests decode, a prefill step takes
                                      # at most this long, then a decode step runs (0: off)

    def __post_init__(self):
        if not 0 < self.deny_usage <= 1 or not 0 <= self.reserve < 1:
            raise ValueError("deny_usage must be in (0, 1] and reserve in [0, 1)")
        if self.fg_max_chunk_ms < 0:
            raise ValueError("fg_max_chunk_ms must be >= 0")
        if self.max_in_flight < 0 or self.min_chunk_tokens < 1 \
                or self.chunk_tokens < self.min_chunk_tokens:
            raise ValueError("need max_in_flight >= 0 and chunk_tokens >= min_chunk_tokens >= 1")
        if self.program_policy not in PROGRAM_POLICIES:
            raise ValueError(f"program policy must be one of {sorted(PROGRAM_POLICIES)}")

    @classmethod
    def from_config(cls, config) -> "BgPolicy":
        """From an AgentrtConfig (the --agentrt-* flags, validated there)."""
        return cls(deny_usage=config.bg_deny_usage, reserve=config.bg_reserve,
                   max_in_flight=config.bg_max_in_flight, chunk_tokens=config.bg_chunk_tokens,
                   starvation_s=config.bg_starvation_s, tbt_slo_ms=config.tbt_slo_ms,
                   program_policy=config.program_policy,
                   yield_to_foreground=config.bg_yield_to_foreground,
                   max_chunk_ms=config.bg_max_chunk_ms,
                   promoted_max_chunk_ms=config.promoted_max_chunk_ms,
                   fg_max_chunk_ms=config.fg_max_chunk_ms)

    def aged(self, arrival_s: float, now_s: float) -> bool:
        """The anti-starvation rule: background work that waited ``starvation_s`` is aged: it
        competes as foreground and no longer yields its chunks."""
        return now_s - arrival_s >= self.starvation_s


class ReqView(NamedTuple):
    """What the decisions need to know about one waiting request."""
    index: int                    # position in SGLang's waiting queue
    req_class: ReqClass
    arrival_s: float
    program: Optional[str] = None
    program_arrival_s: float = 0.0
    pinned: bool = False
    uncached_tokens: int = 0
    cached_tokens: int = 0


class Snapshot(NamedTuple):
    now_s: float
    kv_used: int
    kv_total: int
    fg_waiting: int
    bg_running: int
    last_step_ms: float = 0.0
    fg_running: int = 0               # foreground requests decoding (SGLang's running batch)
    fg_in_batch: int = 0              # foreground requests already admitted to this prefill
    decode_step_ms: float = 0.0       # last decode step
    prefill_ms_per_token: float = 0.0  # observed cost of one prefill token (moving average)
    last_step_prefill_only: bool = False  # the last model step prefilled and decoded nothing
                                          # (a mixed step decodes the running requests too)


class Admission(NamedTuple):
    admit: bool
    max_tokens: int
    reason: str


def effective_class(r: ReqView, now_s: float, policy: BgPolicy) -> ReqClass:
    if r.req_class is ReqClass.BACKGROUND and policy.aged(r.arrival_s, now_s):
        return ReqClass.FOREGROUND
    return r.req_class


def shadow_price(kv_used: int, kv_total: int) -> float:
    usage = kv_used / kv_total if kv_total else 1.0
    if usage >= 1:
        return 1.0
    return min(1.0, usage * usage / (1.0 - usage))


def _fcfs(r: ReqView, snap: Snapshot):
    return (r.arrival_s,)


def _continuum(r: ReqView, snap: Snapshot):
    return (0 if r.pinned else 1, r.program_arrival_s if r.program else r.arrival_s, r.arrival_s)


def _agentsched(r: ReqView, snap: Snapshot):
    lam = shadow_price(snap.kv_used, snap.kv_total)
    total = max(1, r.uncached_tokens + r.cached_tokens)
    job = r.uncached_tokens / max(1, snap.kv_total)          # new allocation it needs
    hit = r.cached_tokens / total                            # share already in cache
    return ((1 - lam) * job + lam * (job - hit), r.arrival_s)


PROGRAM_POLICIES = {"fcfs": _fcfs, "continuum": _continuum, "agentsched": _agentsched}
assert tuple(PROGRAM_POLICIES) == PROGRAM_POLICY_NAMES, "config.PROGRAM_POLICY_NAMES lists them"


def order_waiting(reqs: list[ReqView], snap: Snapshot, policy: BgPolicy) -> list[int]:
    """Indices of ``reqs`` (their ``index`` fields) in scheduling order."""
    key_fn = PROGRAM_POLICIES[policy.program_policy]

    def key(r: ReqView):
        cls = effective_class(r, snap.now_s, policy)
        if cls is ReqClass.BACKGROUND:
            return (cls, r.arrival_s, r.index)
        return (cls, *key_fn(r, snap), r.index)

    return [r.index for r in sorted(reqs, key=key)]


def _chunk(snap: Snapshot, policy: BgPolicy) -> int:
    """The background chunk for this step from the foreground backlog and the step time."""
    chunk = policy.chunk_tokens
    if snap.fg_waiting >= policy.backlog_shrink:
        chunk = policy.min_chunk_tokens
    elif snap.fg_waiting:
        chunk = max(policy.min_chunk_tokens, chunk // (1 + snap.fg_waiting))
    if policy.tbt_slo_ms > 0 and snap.last_step_ms > policy.tbt_slo_ms:
        # the last step already missed the SLO: shrink in proportion to the overshoot
        chunk = max(policy.min_chunk_tokens, int(chunk * policy.tbt_slo_ms / snap.last_step_ms))
    return min(chunk, time_bounded_chunk(policy, snap.prefill_ms_per_token))


def time_bounded_chunk(policy: BgPolicy, prefill_ms_per_token: float) -> int:
    """The largest background chunk ``max_chunk_ms`` allows at the observed prefill rate (the
    chunk an idle server runs; 0 ms per token: not measured yet, ``chunk_tokens``)."""
    if policy.max_chunk_ms <= 0 or prefill_ms_per_token <= 0:
        return policy.chunk_tokens
    return min(policy.chunk_tokens, max(policy.min_chunk_tokens,
                                        int(policy.max_chunk_ms / prefill_ms_per_token)))


def _yield(snap: Snapshot, policy: BgPolicy, chunk: int) -> Admission | None:
    """Background yields to foreground work in the same step; None when it need not."""
    if not policy.yield_to_foreground:
        return None
    if snap.fg_in_batch:
        return Admission(False, 0, "foreground prefill in this batch")
    if not snap.fg_running:
        return None
    if policy.tbt_slo_ms > 0 and snap.prefill_ms_per_token > 0:
        room_ms = policy.tbt_slo_ms - snap.decode_step_ms
        fits = int(room_ms / snap.prefill_ms_per_token)
        if fits >= policy.min_chunk_tokens:
            return Admission(True, min(chunk, fits), "admitted within the TBT SLO")
    return Admission(False, 0, "foreground decoding")


def _kv_room(snap: Snapshot, policy: BgPolicy) -> tuple[int, str]:
    usage = snap.kv_used / snap.kv_total if snap.kv_total else 1.0
    if usage >= policy.deny_usage:
        return 0, f"KV usage {usage:.2f} >= {policy.deny_usage}"
    room = snap.kv_total - snap.kv_used - int(policy.reserve * snap.kv_total)
    if room < policy.min_chunk_tokens:
        return 0, "KV reserve for foreground"
    return room, ""


def admit_background(snap: Snapshot, policy: BgPolicy, aged: bool = False) -> Admission:
    """May one more background request join this prefill batch, with at most how many tokens?
    ``aged``: it waited ``starvation_s`` already (no in-flight cap, no yielding)."""
    if policy.max_in_flight == 0:
        return Admission(False, 0, "background disabled")
    if not aged and snap.bg_running >= policy.max_in_flight:
        return Admission(False, 0, f"{snap.bg_running} background requests in flight")
    room, why = _kv_room(snap, policy)
    if not room:
        return Admission(False, 0, why)
    chunk = _chunk(snap, policy)
    yielded = None if aged else _yield(snap, policy, chunk)
    if yielded is not None and not yielded.admit:
        return yielded
    chunk = min(yielded.max_tokens if yielded else chunk, room)
    return Admission(True, chunk, yielded.reason if yielded else "admitted")


def continue_background(snap: Snapshot, policy: BgPolicy, aged: bool = False) -> Admission:
    """The next chunk of the background request SGLang is chunking. While it yields to
    foreground work it gets the minimum chunk (``max_tokens`` then says so in ``reason``); KV
    pressure does not shrink it: a smaller chunk frees nothing, ``should_preempt`` does."""
    chunk = _chunk(snap, policy)
    yielded = None if aged else _yield(snap, policy, chunk)
    if yielded is None and not aged and policy.yield_to_foreground and snap.fg_waiting:
        # SGLang adds the request it is chunking to a batch before the waiting queue: the
        # foreground prefill waiting there joins this step
        yielded = Admission(False, 0, "foreground prefill waiting")
    if yielded is None:
        return Admission(True, chunk, "admitted")
    if yielded.admit:
        return yielded._replace(max_tokens=min(chunk, yielded.max_tokens))
    return Admission(True, policy.yield_chunk_tokens, f"yielding: {yielded.reason}")


def pause_background_chunk(snap: Snapshot, policy: BgPolicy, promoted: bool = False,
                           aged: bool = False) -> bool:
    """Run a decode step now instead of the next chunk of the background prefill SGLang is
    chunking (``snap``: its waiting queue and running batch). It pauses while foreground
    requests decode and none wait to prefill (a waiting one gets its prefill, beside the
    minimum chunk). Work that goes ahead of foreground work (a promoted preparation: a commit
    waits on it; aged work) and work a TBT SLO leaves room for alternate instead: a chunk, then
    a decode step. They never run chunk after chunk: SGLang runs every pending chunk before any
    decode step, so a long preparation would stall every decoding request until its end."""
    if not policy.yield_to_foreground or not snap.fg_running or snap.fg_waiting:
        return False
    if promoted or aged:
        return snap.last_step_prefill_only
    room = _yield(snap, policy, policy.chunk_tokens)
    if room is not None and room.admit:
        return snap.last_step_prefill_only
    return True


def decode_bounded_tokens(snap: Snapshot, policy: BgPolicy,
                          tokens_within: int | None) -> int | None:
    """The prefill tokens one step may hold while foreground requests decode (``snap``): what
    ``fg_max_chunk_ms`` allows, at least ``min_chunk_tokens``. ``tokens_within``: that count
    from the server's fitted step cost at the prefill's context position (None: no fit yet;
    the mean time per token prices it). None: no bound (nothing decodes, the bound is off, or
    no prefill was timed yet)."""
    if policy.fg_max_chunk_ms <= 0 or not snap.fg_running:
        return None
    if tokens_within is None:
        if snap.prefill_ms_per_token <= 0:
            return None
        tokens_within = int(policy.fg_max_chunk_ms / snap.prefill_ms_per_token)
    return max(policy.min_chunk_tokens, tokens_within)


def decode_first(snap: Snapshot, policy: BgPolicy) -> bool:
    """Run a decode step before the next prefill step: foreground requests decode and the last
    step prefilled without decoding them. With each prefill step bounded
    (``decode_bounded_tokens``), a decoding request then waits at most one bounded step, never
    a run of them. A mixed step (SGLang's ``--enable-mixed-chunk``, which the bound turns on
    on CPU) decodes them beside its chunk, so none is needed after it: the decoding requests
    get a token every bounded step at no extra step."""
    return policy.fg_max_chunk_ms > 0 and snap.fg_running > 0 and snap.last_step_prefill_only


def promoted_chunk(snap: Snapshot, policy: BgPolicy) -> int | None:
    """The chunk cap of a promoted preparation (a commit waits on it: it goes first, in
    chunks of ``promoted_max_chunk_ms`` if set, so foreground decoding keeps stepping between
    them); None: no cap of its own (the default: the commit's critical path is prefilled as a
    foreground request is, decode-bounded alike; or no estimate of the prefill time per token
    yet)."""
    if policy.promoted_max_chunk_ms <= 0 or snap.prefill_ms_per_token <= 0:
        return None
    return max(policy.min_chunk_tokens,
               int(policy.promoted_max_chunk_ms / snap.prefill_ms_per_token))


def should_preempt(fg_blocked_on_kv: bool, bg_chunked: bool, bg_promoted: bool,
                   bg_aged: bool) -> bool:
    """Abort the chunked background prefill: a foreground request did not fit in KV, and the
    background request is neither awaited by a commit (promoted) nor starving (aged)."""
    return fg_blocked_on_kv and bg_chunked and not bg_promoted and not bg_aged
