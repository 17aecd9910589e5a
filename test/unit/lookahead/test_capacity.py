"""Capacity-aware start: exact decisions from the server's load and the agent's pace."""
from agentrt.lookahead.capacity import AgentPace, ServerLoad, decide_start

PACE = AgentPace(tokens=4000, hard_tokens=4800, growth=200.0,
                 boundary_s=5.0)   # 4 boundaries (20 s) before the hard threshold
BRANCH = 3600                      # tokens of the branch the tree lacks


def test_idle_server_starts_and_states_the_margin():
    d = decide_start(ServerLoad(2.0, 0.5), BRANCH, PACE)   # 3600 x 2 ms = 7.2 <= 10 s
    assert d.start and round(d.need_s, 2) == 7.2 and d.idle_s == 10.0


def test_saturated_server_defers_with_the_reason():
    d = decide_start(ServerLoad(2.0, 0.95), BRANCH, PACE)  # 1 s idle
    assert not d.start and d.reason == "needs 7.2 s of prefill, 1.0 s idle before the commit"


def test_past_the_hard_threshold_one_boundary_is_left():
    d = decide_start(ServerLoad(1.0, 0.0), BRANCH, PACE._replace(tokens=5000))
    assert d.start and d.idle_s == 5.0 and round(d.need_s, 1) == 3.6
    assert not decide_start(ServerLoad(2.0, 0.0), BRANCH, PACE._replace(tokens=5000)).start


def test_unknowns_let_the_preparation_start():
    assert decide_start(None, BRANCH, PACE).reason == "server load unknown"
    assert decide_start(ServerLoad(0.0, 0.9), BRANCH, PACE).start
    assert decide_start(ServerLoad(2.0, 0.9), BRANCH, PACE._replace(growth=None)).reason == \
        "agent pace unknown"


def test_other_preparations_queued_ahead_take_the_idle_time_first():
    alone = decide_start(ServerLoad(2.0, 0.5), BRANCH, PACE)
    queued = decide_start(ServerLoad(2.0, 0.5, backlog_tokens=1500), BRANCH, PACE)
    assert alone.start and not queued.start                 # (1500 + 3600) x 2 ms = 10.2 > 10 s
    assert round(queued.need_s, 1) == 10.2
