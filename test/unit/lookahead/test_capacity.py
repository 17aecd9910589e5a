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


def test_a_preparation_that_would_still_fit_one_boundary_later_waits():
    """The latest start that still fits: 7.2 s needed; from the next boundary 3 boundaries
    (15 s) are left, 7.5 s idle at half load: not twice 7.2 s, so it starts now. With a
    quarter load 11.25 s idle from the next boundary would not hold it twice either; with none,
    15 s does: it waits for the next boundary."""
    later = idle_window_s(PACE._replace(tokens=4200))           # 15 s from the next boundary
    assert later == 15.0
    assert decide_start(ServerLoad(2.0, 0.5), BRANCH, 20.0, later).start
    assert decide_start(ServerLoad(2.0, 0.25), BRANCH, 20.0, later).start
    waits = decide_start(ServerLoad(2.0, 0.0), BRANCH, 20.0, later)
    assert not waits.start and waits.reason.startswith("fits later: needs 7.2 s")
    assert decide_start(ServerLoad(2.0, 0.0), BRANCH, 20.0, 0.0).start   # no later start


def test_the_agents_windows_from_now_and_from_its_next_boundary():
    from agentrt.lookahead.capacity import IdleWindows, Pace

    pace = Pace()
    assert pace.windows(1000) is None                 # nothing observed yet
    for at, tokens in ((0.0, 400), (2.0, 500), (4.0, 600), (6.0, 800)):
        pace.tick(at)
        pace.count(tokens)
    # mean growth 133, mean interval 2 s: ceil(200 / 133) = 2 boundaries now; the largest
    # growth (200) reaches the threshold: nothing is left from the next boundary
    assert pace.windows(1000) == IdleWindows(4.0, 0.0)
    assert pace.windows(2000) == IdleWindows(18.0, 16.0)   # 9 boundaries now, 8 after 1000
