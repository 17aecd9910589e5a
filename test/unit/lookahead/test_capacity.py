"""Capacity-aware start: exact decisions from the server's load and the agent's pace."""
from agentrt.lookahead.capacity import AgentPace, ServerLoad, decide_start, idle_window_s

PACE = AgentPace(tokens=4000, hard_tokens=4800, growth=200.0,
                 boundary_s=5.0)   # 4 boundaries (20 s) before the hard threshold
BRANCH = 3600                      # tokens of the branch the tree lacks


def decide(load, branch, pace):
    return decide_start(load, branch, idle_window_s(pace))


def test_idle_server_starts_and_states_the_margin():
    d = decide(ServerLoad(2.0, 0.5), BRANCH, PACE)   # 3600 x 2 ms = 7.2 <= 10 s
    assert d.start and round(d.need_s, 2) == 7.2 and d.idle_s == 10.0


def test_saturated_server_defers_with_the_reason():
    d = decide(ServerLoad(2.0, 0.95), BRANCH, PACE)  # 1 s idle
    assert not d.start and d.reason == "needs 7.2 s of prefill, 1.0 s idle before the commit"


def test_past_the_hard_threshold_one_boundary_is_left():
    d = decide(ServerLoad(1.0, 0.0), BRANCH, PACE._replace(tokens=5000))
    assert d.start and d.idle_s == 5.0 and round(d.need_s, 1) == 3.6
    assert not decide(ServerLoad(2.0, 0.0), BRANCH, PACE._replace(tokens=5000)).start


def test_unknowns_let_the_preparation_start():
    assert decide(None, BRANCH, PACE).reason == "server load unknown"
    assert decide(ServerLoad(0.0, 0.9), BRANCH, PACE).start
    assert decide(ServerLoad(2.0, 0.9), BRANCH, PACE._replace(growth=None)).reason == \
        "agent pace unknown"


def test_other_preparations_queued_ahead_take_the_idle_time_first():
    alone = decide(ServerLoad(2.0, 0.5), BRANCH, PACE)
    queued = decide(ServerLoad(2.0, 0.5, backlog_tokens=1500), BRANCH, PACE)
    assert alone.start and not queued.start                 # (1500 + 3600) x 2 ms = 10.2 > 10 s
    assert round(queued.need_s, 1) == 10.2


def test_the_window_is_boundaries_left_times_seconds_per_boundary():
    assert idle_window_s(PACE) == 20.0                        # ceil(800 / 200) x 5 s
    assert idle_window_s(PACE._replace(tokens=5000)) == 5.0   # past the threshold: one left
    assert idle_window_s(PACE._replace(boundary_s=None)) is None


def test_a_preparation_that_barely_fits_is_deferred():
    """A margin of START_MARGIN: estimates from the recent past are not exact, and a preparation
    that overruns makes its commit wait (the nemo-gym run's 8.85 s needed against 8.86 s idle)."""
    from agentrt.lookahead.capacity import START_MARGIN

    barely = decide(ServerLoad(8.85 / 3.6, 0.5), BRANCH, PACE)    # 8.85 s of 10 s idle
    assert round(barely.need_s, 2) == 8.85 and barely.idle_s == 10.0 and START_MARGIN > 1.13
    assert not barely.start
    assert decide(ServerLoad(2.0, 0.5), BRANCH, PACE).start   # 7.2 s x 1.2 <= 10 s
