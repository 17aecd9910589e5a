"""Scheduling decisions are pure functions of a snapshot: exact expected orders and admissions."""
import pytest

from agentrt.server.scheduling.policy import (Admission, BgPolicy, ReqClass, ReqView, Snapshot,
                                      admit_background, continue_background,
                                      decode_bounded_tokens, decode_first, order_waiting,
                                      pause_background_chunk,
                                      promoted_chunk, shadow_price, should_preempt)

FG, BG, PR = ReqClass.FOREGROUND, ReqClass.BACKGROUND, ReqClass.PROMOTED
SNAP = Snapshot(now_s=100.0, kv_used=1000, kv_total=10000, fg_waiting=0, bg_running=0)


def test_promoted_then_foreground_then_background_by_age():
    reqs = [ReqView(0, BG, 90.0), ReqView(1, FG, 95.0), ReqView(2, BG, 80.0),
            ReqView(3, PR, 99.0), ReqView(4, FG, 91.0)]
    assert order_waiting(reqs, SNAP, BgPolicy()) == [3, 4, 1, 2, 0]


def test_starving_background_is_aged_into_foreground():
    reqs = [ReqView(0, FG, 99.0), ReqView(1, BG, 60.0)]          # waited 40 s > 30 s
    assert order_waiting(reqs, SNAP, BgPolicy()) == [1, 0]
    assert order_waiting(reqs, SNAP, BgPolicy(starvation_s=50)) == [0, 1]


def test_continuum_pinned_programs_first_then_program_fcfs():
    reqs = [ReqView(0, FG, 99.0, "a", 10.0), ReqView(1, FG, 98.0, "b", 50.0, pinned=True),
            ReqView(2, FG, 97.0, "c", 5.0), ReqView(3, FG, 96.0, "a", 10.0)]
    assert order_waiting(reqs, SNAP, BgPolicy(program_policy="continuum")) == [1, 2, 3, 0]


def test_agentsched_blends_sjf_and_cache_preservation():
    small_cold = ReqView(0, FG, 1.0, uncached_tokens=200, cached_tokens=0)
    big_warm = ReqView(1, FG, 2.0, uncached_tokens=600, cached_tokens=5000)
    low = Snapshot(100.0, kv_used=500, kv_total=10000, fg_waiting=2, bg_running=0)
    high = Snapshot(100.0, kv_used=8000, kv_total=10000, fg_waiting=2, bg_running=0)
    policy = BgPolicy(program_policy="agentsched")
    assert order_waiting([small_cold, big_warm], low, policy) == [0, 1]    # SJF
    assert order_waiting([small_cold, big_warm], high, policy) == [1, 0]   # keep the cache
    assert shadow_price(0, 100) == 0 and shadow_price(50, 100) == 0.5
    assert shadow_price(90, 100) == 1.0 and shadow_price(100, 100) == 1.0


@pytest.mark.parametrize("snap, expected", [
    (SNAP, Admission(True, 256, "admitted")),
    (SNAP._replace(bg_running=2), Admission(False, 0, "2 background requests in flight")),
    (SNAP._replace(kv_used=8600), Admission(False, 0, "KV usage 0.86 >= 0.85")),
    (SNAP._replace(kv_used=8980), Admission(False, 0, "KV usage 0.90 >= 0.85")),
    (SNAP._replace(fg_waiting=1), Admission(True, 128, "admitted")),
    (SNAP._replace(fg_waiting=3), Admission(True, 64, "admitted")),
    (SNAP._replace(fg_waiting=8), Admission(True, 64, "admitted")),
])
def test_background_admission(snap, expected):
    assert admit_background(snap, BgPolicy()) == expected


def test_admission_keeps_reserve_and_tracks_step_time():
    tight = Snapshot(0.0, kv_used=8400, kv_total=10000, fg_waiting=0, bg_running=0)
    assert admit_background(tight, BgPolicy(deny_usage=0.9)) == Admission(True, 256, "admitted")
    tighter = tight._replace(kv_used=8950)
    assert admit_background(tighter, BgPolicy(deny_usage=0.95)).reason == \
        "KV reserve for foreground"
    slow = SNAP._replace(last_step_ms=200.0)
    assert admit_background(slow, BgPolicy(tbt_slo_ms=50)) == Admission(True, 64, "admitted")
    assert admit_background(SNAP, BgPolicy(max_in_flight=0)).admit is False


@pytest.mark.parametrize("snap, aged, expected", [
    (SNAP._replace(fg_in_batch=1), False, Admission(False, 0, "foreground prefill in this batch")),
    (SNAP._replace(fg_running=3), False, Admission(False, 0, "foreground decoding")),
    # starving background no longer yields, and ignores the in-flight cap
    (SNAP._replace(fg_running=3, bg_running=2), True, Admission(True, 256, "admitted")),
    # KV pressure denies even aged work
    (SNAP._replace(fg_running=3, kv_used=9000), True,
     Admission(False, 0, "KV usage 0.90 >= 0.85")),
])
def test_background_yields_to_foreground(snap, aged, expected):
    assert admit_background(snap, BgPolicy(), aged=aged) == expected


def test_background_runs_next_to_decoding_only_within_the_tbt_slo():
    decoding = SNAP._replace(fg_running=2, decode_step_ms=40.0, prefill_ms_per_token=0.5)
    # (100 - 40) ms / 0.5 ms per token = 120 tokens fit next to the decode step
    assert admit_background(decoding, BgPolicy(tbt_slo_ms=100)) == \
        Admission(True, 120, "admitted within the TBT SLO")
    # 20 ms of room fit 40 < 64 tokens (the minimum chunk): denied
    assert admit_background(decoding._replace(decode_step_ms=80.0), BgPolicy(tbt_slo_ms=100)) \
        == Admission(False, 0, "foreground decoding")
    # no per-token estimate yet: nothing is known to fit
    assert admit_background(decoding._replace(prefill_ms_per_token=0.0),
                            BgPolicy(tbt_slo_ms=100)).admit is False
    # yielding off: a full chunk (here 250 ms / 0.5 ms per token = 500 tokens)
    assert admit_background(decoding, BgPolicy(yield_to_foreground=False, max_chunk_ms=250,
                                               chunk_tokens=512)) \
        == Admission(True, 500, "admitted")


def test_chunked_background_shrinks_to_the_minimum_while_foreground_decodes():
    assert continue_background(SNAP, BgPolicy()) == Admission(True, 256, "admitted")
    assert continue_background(SNAP._replace(fg_running=1), BgPolicy()) == \
        Admission(True, 16, "yielding: foreground decoding")
    assert continue_background(SNAP._replace(fg_running=1), BgPolicy(), aged=True) == \
        Admission(True, 256, "admitted")
    # KV pressure does not shrink a running chunk (that frees nothing; preemption does)
    assert continue_background(SNAP._replace(kv_used=9900), BgPolicy()).admit is True
    # a foreground request waits to prefill: it joins this batch beside the minimum chunk
    # (SGLang adds the chunked request before the waiting queue)
    assert continue_background(SNAP._replace(fg_waiting=1), BgPolicy()) == \
        Admission(True, 16, "yielding: foreground prefill waiting")
    assert continue_background(SNAP._replace(fg_waiting=1), BgPolicy(), aged=True) == \
        Admission(True, 128, "admitted")
    assert continue_background(SNAP._replace(fg_waiting=3),
                               BgPolicy(yield_to_foreground=False)) == \
        Admission(True, 64, "admitted")
    slo = SNAP._replace(fg_running=1, decode_step_ms=50.0, prefill_ms_per_token=0.1)
    assert continue_background(slo, BgPolicy(tbt_slo_ms=100, chunk_tokens=512)) == \
        Admission(True, 500, "admitted within the TBT SLO")


@pytest.mark.parametrize("blocked, chunked, promoted, aged, expected", [
    (True, True, False, False, True),
    (False, True, False, False, False),     # nobody needs the room
    (True, False, False, False, False),     # no background prefill to preempt
    (True, True, True, False, False),       # a commit waits on it
    (True, True, False, True, False),       # starving: it keeps its place
])
def test_preemption(blocked, chunked, promoted, aged, expected):
    assert should_preempt(blocked, chunked, promoted, aged) is expected


def test_chunk_is_sized_to_a_time_bound():
    slow = SNAP._replace(prefill_ms_per_token=2.5)       # 250 ms / 2.5 ms = 100 tokens
    bound = BgPolicy(max_chunk_ms=250)
    assert admit_background(slow, bound) == Admission(True, 100, "admitted")
    assert admit_background(slow._replace(prefill_ms_per_token=10.0), bound) == \
        Admission(True, 64, "admitted")                   # never under the minimum chunk
    assert admit_background(slow, BgPolicy(max_chunk_ms=0)) == Admission(True, 256, "admitted")
    assert continue_background(slow, bound) == Admission(True, 100, "admitted")
    # the default 1,000 ms fit 400 tokens: the 256-token chunk
    assert admit_background(slow, BgPolicy()) == Admission(True, 256, "admitted")
    assert admit_background(slow._replace(prefill_ms_per_token=8.0), BgPolicy()) == \
        Admission(True, 125, "admitted")


def test_promoted_preparation_is_uncapped_unless_bounded():
    timed = SNAP._replace(prefill_ms_per_token=2.0)
    assert promoted_chunk(timed, BgPolicy()) is None                # like a foreground request
    bounded = BgPolicy(promoted_max_chunk_ms=150)
    assert promoted_chunk(SNAP, bounded) is None                    # no per-token estimate yet
    assert promoted_chunk(timed, bounded) == 75                     # 150 ms / 2 ms
    assert promoted_chunk(timed._replace(prefill_ms_per_token=50.0), bounded) == 64


def test_foreground_prefill_is_bounded_only_while_foreground_requests_decode():
    decoding = SNAP._replace(fg_running=2, prefill_ms_per_token=2.0)
    assert decode_bounded_tokens(decoding, BgPolicy(), 180) is None  # off by default
    policy = BgPolicy(fg_max_chunk_ms=500)
    assert decode_bounded_tokens(decoding, policy, 180) == 180      # the fit at its position
    assert decode_bounded_tokens(decoding, policy, None) == 250     # 500 ms / 2 ms mean rate
    assert decode_bounded_tokens(decoding, policy, 10) == 64        # never under the minimum
    assert decode_bounded_tokens(decoding._replace(fg_running=0), policy, 180) is None
    assert decode_bounded_tokens(decoding._replace(prefill_ms_per_token=0.0), policy,
                                 None) is None                      # nothing timed yet
    assert decode_bounded_tokens(decoding, BgPolicy(fg_max_chunk_ms=0), 180) is None


def test_decode_runs_between_prefill_steps_while_foreground_requests_decode():
    after_prefill = SNAP._replace(fg_running=1, last_step_prefill_only=True)
    bounded = BgPolicy(fg_max_chunk_ms=500)
    assert decode_first(after_prefill, bounded) is True
    assert decode_first(after_prefill._replace(last_step_prefill_only=False), bounded) is False
    assert decode_first(after_prefill._replace(fg_running=0), bounded) is False
    assert decode_first(after_prefill, BgPolicy()) is False          # off by default


def test_policy_validation():
    with pytest.raises(ValueError):
        BgPolicy(deny_usage=0)
    with pytest.raises(ValueError):
        BgPolicy(program_policy="random")
    with pytest.raises(ValueError):
        BgPolicy(chunk_tokens=10, min_chunk_tokens=64)
    with pytest.raises(ValueError):
        BgPolicy(fg_max_chunk_ms=-1)


def test_pause_background_chunk_lets_foreground_decode():
    decoding = SNAP._replace(fg_running=2)
    assert pause_background_chunk(decoding, BgPolicy()) is True
    # nothing decoding, a foreground prefill waiting, aged work, yielding off: no pause
    assert pause_background_chunk(SNAP, BgPolicy()) is False
    assert pause_background_chunk(decoding._replace(fg_waiting=1), BgPolicy()) is False
    assert pause_background_chunk(decoding, BgPolicy(), aged=True) is False   # last: decode
    assert pause_background_chunk(decoding._replace(last_step_prefill_only=True), BgPolicy(),
                                  aged=True) is True          # aged work alternates
    assert pause_background_chunk(decoding, BgPolicy(yield_to_foreground=False)) is False


def test_pause_alternates_for_promoted_and_within_the_tbt_slo():
    after_prefill = SNAP._replace(fg_running=1, last_step_prefill_only=True)
    after_decode = SNAP._replace(fg_running=1, last_step_prefill_only=False)
    # a promoted preparation never runs chunk after chunk while others decode
    assert pause_background_chunk(after_prefill, BgPolicy(), promoted=True) is True
    assert pause_background_chunk(after_decode, BgPolicy(), promoted=True) is False
    assert pause_background_chunk(after_prefill._replace(fg_waiting=1), BgPolicy(),
                                  promoted=True) is False
    bounded = BgPolicy(promoted_max_chunk_ms=150)
    assert pause_background_chunk(after_prefill, bounded, promoted=True) is True
    assert pause_background_chunk(after_decode, bounded, promoted=True) is False
    # a 100 ms SLO, 20 ms decode steps, 0.5 ms/token: 160 tokens fit next to a decode step
    slo = BgPolicy(tbt_slo_ms=100)
    room = dict(decode_step_ms=20.0, prefill_ms_per_token=0.5)
    assert pause_background_chunk(after_decode._replace(**room), slo) is False
    assert pause_background_chunk(after_prefill._replace(**room), slo) is True
    # no room (decode steps already at the SLO): plain pause
    assert pause_background_chunk(after_decode._replace(decode_step_ms=100.0,
                                                        prefill_ms_per_token=0.5), slo) is True


def test_policy_from_config_and_the_one_starvation_rule():
    from agentrt.config import PROGRAM_POLICY_NAMES, AgentrtConfig
    from agentrt.server.scheduling.policy import PROGRAM_POLICIES

    config = AgentrtConfig(bg_deny_usage=0.7, bg_reserve=0.2, bg_max_in_flight=3,
                           bg_chunk_tokens=256, bg_starvation_s=5.0, tbt_slo_ms=40.0,
                           program_policy="continuum", bg_yield_to_foreground=False,
                           bg_max_chunk_ms=90.0, promoted_max_chunk_ms=60.0,
                           fg_max_chunk_ms=300.0)
    assert BgPolicy.from_config(config) == BgPolicy(
        deny_usage=0.7, reserve=0.2, max_in_flight=3, chunk_tokens=256, starvation_s=5.0,
        tbt_slo_ms=40.0, program_policy="continuum", yield_to_foreground=False,
        max_chunk_ms=90.0, promoted_max_chunk_ms=60.0, fg_max_chunk_ms=300.0)
    assert BgPolicy.from_config(AgentrtConfig()) == BgPolicy(deny_usage=0.85, reserve=0.10)
    assert tuple(PROGRAM_POLICIES) == PROGRAM_POLICY_NAMES
    policy = BgPolicy(starvation_s=5.0)
    assert policy.aged(10.0, 15.0) and not policy.aged(10.0, 14.9)


class _Pool:
    size = 10000

    @staticmethod
    def available_size():
        return 9000


def _tree():
    from types import SimpleNamespace

    return SimpleNamespace(token_to_kv_pool_allocator=_Pool(), evictable_size=lambda: 0,
                           promoted=set(), pins={})


class _Adder:                    # what the override needs of SGLang's PrefillAdder
    def __init__(self, tree, running=None, rem_chunk_tokens=None):
        self.tree_cache, self.running_batch, self.can_run_list = tree, running, []
        self.rem_chunk_tokens, self.seen, self.new_chunked_req = rem_chunk_tokens, [], None

    def add_one_req(self, req, has_chunked_req=False):
        self.seen.append((req.rid, self.rem_chunk_tokens))
        if self.rem_chunk_tokens is not None:
            self.rem_chunk_tokens -= 10
        return "added"

    add_chunked_req = add_one_req


def _req(rid, priority=None, prefix_len=0):
    from types import SimpleNamespace

    return SimpleNamespace(rid=rid, priority=priority, time_stats=None, created_time=0,
                           full_untruncated_fill_ids=[1] * 20, prefix_len=prefix_len,
                           finished=lambda: False)


def test_prefill_adder_caps_background_chunks_and_passes_foreground_through():
    from types import SimpleNamespace

    from agentrt.server.scheduling import hooks
    from agentrt.server.scheduling.stats import STATS

    tree = _tree()
    STATS.reset()
    hooks.configure(BgPolicy())
    cls = hooks.lookahead_adder(_Adder)
    assert cls is hooks.lookahead_adder(_Adder) and issubclass(cls, _Adder)
    adder = cls(tree)
    assert adder.add_one_req(_req("fg")) == "added"
    assert adder.add_one_req(_req("agentrt-prepare:b1:n:s")) == "added"
    assert adder.seen == [("fg", None), ("agentrt-prepare:b1:n:s", 256)]
    assert adder.rem_chunk_tokens is None and STATS.bg_admitted == 1 and STATS.bg_tokens == 10
    STATS.reset()

    # the background request SGLang is chunking is added to a batch before the waiting queue:
    # with a foreground request waiting, its next chunk is the minimum (the foreground prefill
    # joins the same step); with none waiting, a full chunk
    chunked = _req("agentrt-prepare:b2:n:s")

    def batch(waiting):
        scheduler = SimpleNamespace(waiting_queue=waiting, chunked_req=None, tree_cache=tree)
        adder = cls(tree)
        hooks.around_get_new_batch_prefill(lambda s: adder.add_chunked_req(chunked), scheduler)
        return adder.seen[-1][1]

    assert batch([_req("fg")]) == BgPolicy().yield_chunk_tokens
    assert batch([]) == 256 and hooks._State.waiting == []
    STATS.reset()


def test_prefill_adder_bounds_the_batch_while_foreground_requests_decode():
    from types import SimpleNamespace

    from agentrt.server.scheduling import hooks
    from agentrt.server.scheduling.stats import STATS

    tree = _tree()
    decoding = SimpleNamespace(reqs=[_req("decoding")])
    STATS.reset()
    STATS.prefill_ms_per_token = 2.0          # no fit yet: 500 ms / 2 ms = 250 tokens a step
    bounded = BgPolicy(fg_max_chunk_ms=500)
    hooks.configure(bounded)
    cls = hooks.lookahead_adder(_Adder)
    adder = cls(tree, decoding, rem_chunk_tokens=8192)
    adder.add_one_req(_req("a"))
    adder.add_one_req(_req("b"))
    assert adder.seen == [("a", 250), ("b", 240)]     # one budget for the whole batch
    # nothing decoding: SGLang's own budget; the bound off (the default): the same
    adder = cls(tree, SimpleNamespace(reqs=[]), rem_chunk_tokens=8192)
    adder.add_one_req(_req("a"))
    assert adder.seen == [("a", 8192)]
    hooks.configure(BgPolicy())
    adder = cls(tree, decoding, rem_chunk_tokens=8192)
    adder.add_one_req(_req("a"))
    assert adder.seen == [("a", 8192)]
    hooks.configure(bounded)
    # a foreground request SGLang is chunking gets the bounded chunk; beside a chunked
    # background request a foreground request is added whole, as before the bound
    adder = cls(tree, decoding, rem_chunk_tokens=8192)
    adder.add_chunked_req(_req("a"))
    assert adder.seen == [("a", 250)]
    adder = cls(tree, decoding, rem_chunk_tokens=8192)
    adder.add_one_req(_req("b"), has_chunked_req=True)
    assert adder.seen == [("b", 8192)]
    hooks.configure(BgPolicy())
    STATS.reset()


def test_a_decode_step_runs_between_prefill_steps_while_foreground_requests_decode():
    from types import SimpleNamespace

    from agentrt.server.scheduling import hooks
    from agentrt.server.scheduling.stats import STATS

    tree = _tree()
    decoding = SimpleNamespace(reqs=[_req("decoding")])
    hooks.configure(BgPolicy(fg_max_chunk_ms=500))

    def defers(waiting, running, last_step_prefill_only, chunked=None):
        STATS.reset()
        STATS.last_step_prefill_only = last_step_prefill_only
        scheduler = SimpleNamespace(waiting_queue=waiting, chunked_req=chunked, tree_cache=tree)
        return hooks.around_should_defer_prefill(lambda s, b: False, scheduler, running)

    assert defers([_req("fg")], decoding, last_step_prefill_only=True) is True
    assert STATS.prefills_deferred == 1
    assert defers([_req("fg")], decoding, last_step_prefill_only=False) is False
    assert defers([_req("fg")], SimpleNamespace(reqs=[]), last_step_prefill_only=True) is False
    assert defers([], decoding, last_step_prefill_only=True) is False           # nothing to prefill
    assert defers([_req("agentrt-prepare:b:n:s")], decoding, True) is False  # it yields anyway
    assert defers([], decoding, True, chunked=_req("fg-chunked")) is True  # its next chunk
    hooks.configure(BgPolicy())
    assert defers([_req("fg")], decoding, last_step_prefill_only=True) is False   # off
    STATS.reset()


def test_a_mixed_batch_prefills_only_its_new_requests():
    from types import SimpleNamespace

    from agentrt.server.scheduling import hooks

    def mode(mixed):
        return SimpleNamespace(is_extend=lambda: True, is_target_verify=lambda: False,
                               is_mixed=lambda: mixed)

    new, running = _req("new"), _req("running")
    mixed = SimpleNamespace(forward_mode=mode(True), reqs=[new, running], prefix_lens=[0, 900],
                            extend_lens=[250, 1], decoding_reqs=[running])
    assert hooks._prefill_lens(mixed) == [(new, 0, 250)]
    assert hooks._mixed_decoding(mixed) == [running]
    plain = SimpleNamespace(forward_mode=mode(False), reqs=[new], prefix_lens=[0],
                            extend_lens=[250], decoding_reqs=None)
    assert hooks._prefill_lens(plain) == [(new, 0, 250)] and hooks._mixed_decoding(plain) == []
