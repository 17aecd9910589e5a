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
    """The latest start that still fits: 7.2 s needed, 30 s of window now; from the next
    boundary 5 boundaries (25 s) are left. At half load 12.5 s idle there does not hold 7.2 s
    LATER_MARGIN (3) times over, so it starts now; at a quarter load neither (18.75 s); with no
    load, 25 s does (21.6 s): it waits for the next boundary."""
    now, later = (idle_window_s(PACE._replace(tokens=t)) for t in (3600, 3800))
    assert (now, later) == (30.0, 25.0)
    assert decide_start(ServerLoad(2.0, 0.5), BRANCH, now, later).start
    assert decide_start(ServerLoad(2.0, 0.25), BRANCH, now, later).start
    waits = decide_start(ServerLoad(2.0, 0.0), BRANCH, now, later)
    assert not waits.start and waits.reason.startswith("fits later: needs 7.2 s")
    # what the decision read, for the run's records
    assert (waits.window_s, waits.later_idle_s, waits.foreground_share) == (30.0, 25.0, 0.0)
    assert decide_start(ServerLoad(2.0, 0.5), BRANCH, now, None).later_idle_s is None
    assert decide_start(ServerLoad(2.0, 0.0), BRANCH, now, 0.0).start   # no later start


def test_the_later_window_is_priced_at_the_busiest_recent_stretch_of_its_length():
    """The idle nemo-gym runs of 3 Dec: 2.4 s needed, a 19.1 s later window, a recent share of
    0.43 (10.9 s idle forecast: it waited) and the other agents' burst at the next boundary
    (0.74). Priced at the peak share the later window holds 5.0 s, under 3 x 2.4 s: it starts
    now. The peak never lowers the price below the recent share, nor prices the window now."""
    recent = ServerLoad(1.0, 0.43, 0)
    assert not decide_start(recent, 2400, 57.4, 19.1).start          # as before: it waits
    d = decide_start(recent._replace(later_share=0.74), 2400, 57.4, 19.1)
    assert d.start and round(d.later_idle_s, 2) == 4.97 and d.later_share == 0.74
    assert round(d.idle_s, 2) == round(57.4 * 0.57, 2)
    calm_peak = decide_start(recent._replace(later_share=0.1), 2400, 57.4, 19.1)
    assert not calm_peak.start and calm_peak.later_share == 0.43
    assert not decide_start(ServerLoad(1.0, 0.98, 0, later_share=0.0), 2400, 57.4, 19.1).start


def test_a_forecast_that_holds_the_need_only_twice_over_does_not_hold_the_start():
    """The idle nemo-gym run of 2 Dec 18:24: 2.9 s needed, 22 s idle now, 7.3 s forecast from
    the next boundary. Waiting on it (margin 2) found 4.2 s there, under the start margin, and
    the commit went synchronous; with LATER_MARGIN 3 the preparation starts now."""
    d = decide_start(ServerLoad(1.0, 0.0), 2900, 22.0, 7.3)
    assert d.start and d.reason == "fits in idle time"


def test_the_agents_windows_from_now_and_from_its_next_boundary():
    from agentrt.lookahead.capacity import IdleWindows, Pace

    pace = Pace()
    assert pace.windows(1000) is None                 # nothing observed yet
    for at, tokens in ((0.0, 400), (2.0, 500), (4.0, 600), (6.0, 800)):
        pace.tick(at)
        pace.count(tokens)
    # mean growth 133, mean interval 2 s: ceil(200 / 133) = 2 boundaries now; the largest
    # growth (200) reaches the threshold: nothing is left from the next boundary
    assert pace.windows(1000) == IdleWindows(4.0, 0.0, 1000)
    assert pace.windows(2000) == IdleWindows(18.0, 16.0, 2000)   # 9 boundaries now, 8 after 1000


def test_the_later_window_survives_the_jobs_largest_growth_not_only_a_recent_one():
    """A big output every few boundaries (MiniAgent: every ninth) falls out of the recent
    growths; the bet on the next boundary must still survive it."""
    from agentrt.lookahead.capacity import IdleWindows, Pace

    pace = Pace(keep=2)
    for at, tokens in ((0.0, 100), (2.0, 761), (4.0, 909), (6.0, 1057), (8.0, 1205)):
        pace.tick(at)
        pace.count(tokens)                   # growths 661, 148, 148, 148: recent 148, 148
    assert pace.largest_growth == 148 and pace.largest_growth_seen == 661
    # now: ceil(595 / 148) = 5 boundaries of 2 s; after the 661 the threshold is reached
    assert pace.windows(1800) == IdleWindows(10.0, 0.0, 1800)
    pace.count(1000)                         # a commit's shrink is not growth
    assert pace.largest_growth_seen == 661


def test_the_long_run_growth_is_every_boundarys_not_the_last_few():
    from agentrt.lookahead.capacity import Pace

    pace = Pace(keep=2)
    assert pace.long_run_growth is None
    for tokens in (100, 700, 800, 300, 310, 330):     # 300: a commit's shrink, not growth
        pace.count(tokens)
    assert list(pace.growth) == [10, 20] and pace.mean_growth == 15
    assert pace.long_run_growth == (600 + 100 + 10 + 20) / 4
