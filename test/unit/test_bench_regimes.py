"""Step 10's regimes: settings per regime, desynchronized traces, the KV pool flag."""
import pytest

from benchmark.agent_replay.regimes import (
    SYSTEMS,
    regime_settings,
    regime_traces,
    scale_tools,
    start_offsets,
    trace_phase,
)
from benchmark.agent_replay.systems import SYSTEMS as ALL_SYSTEMS
from benchmark.agent_replay.systems import with_agentrt_flags, with_pool
from benchmark.agent_replay.workload import miniagent


def test_settings_per_regime_and_overrides():
    idle = regime_settings("idle", quick=False, budget=6000)
    assert idle.tool_scale > 1 and idle.max_total_tokens is None and idle.agents == 4
    assert regime_settings("idle", quick=True, budget=1800).agents == 2
    sat = regime_settings("saturated", quick=False, budget=6000)
    assert sat.tool_scale == 1.0 and sat.max_total_tokens is None
    mem = regime_settings("memory", quick=True, budget=1800)
    assert mem.agents == 4 and mem.max_total_tokens == 2700          # 1.5 x the budget
    assert regime_settings("memory", quick=False, budget=6000).max_total_tokens == 9000
    assert regime_settings("idle", quick=False, budget=6000, workload="nemo_gym").tool_scale \
        == 27.0 != idle.tool_scale                        # its own factor (ttl_only 53 % busy)
    assert regime_settings("idle", quick=True, budget=1800, workload="nemo_gym").tool_scale \
        == regime_settings("idle", quick=True, budget=1800).tool_scale
    over = regime_settings("idle", quick=True, budget=1800, agents=3, tool_scale=2.5)
    assert (over.agents, over.tool_scale) == (3, 2.5)
    assert sat.systems == SYSTEMS == ("vanilla", "ttl_only", "kernel_only", "agentrt")
    with pytest.raises(KeyError):
        regime_settings("busy", quick=True, budget=1800)
    with pytest.raises(ValueError):
        regime_settings("idle", quick=True, budget=1800, tool_scale=0)


def test_agents_are_desynchronized():
    assert [trace_phase(i, 4) for i in range(4)] == [0, 2, 4, 6]
    assert [trace_phase(i, 2) for i in range(2)] == [0, 4]
    traces = regime_traces("miniagent", 4, 0, 20, 1.0)
    big = [[i + 1 for i, s in enumerate(t.steps) if len(s.tool_output.split()) == 550]
           for t in traces]
    assert big == [[9, 18], [7, 16], [5, 14], [3, 12]]
    # phase 0 is load_workload's trace exactly
    assert traces[0] == miniagent("agent-0", 0, steps=20)
    offsets = start_offsets(traces, fraction=0.5, turn_s=1.0)
    assert offsets[0] == 0.0 and offsets == sorted(offsets) and len(set(offsets)) == 4
    mean_tool = sum(s.tool_s for s in traces[2].steps) / 20
    assert offsets[2] == pytest.approx(2 * 0.5 * (mean_tool + 1.0), abs=1e-3)


def test_tool_scale_multiplies_every_duration_only():
    t = miniagent("a", 1, steps=5)
    scaled = scale_tools([t], 3.0)[0]
    assert [s.tool_s for s in scaled.steps] == pytest.approx([3 * s.tool_s for s in t.steps])
    assert [s.tool_output for s in scaled.steps] == [s.tool_output for s in t.steps]
    assert regime_traces("miniagent", 2, 0, 5, 4.0)[1].steps[0].tool_s == pytest.approx(
        4.0 * miniagent("agent-1", 1, steps=5, phase=4).steps[0].tool_s)


def test_with_pool_sets_max_total_tokens():
    sized = with_pool(ALL_SYSTEMS["agentrt"], 2700)
    args = list(sized.args)
    assert args[args.index("--max-total-tokens") + 1] == "2700"
    assert sized.lookahead and sized.tool_hints and sized.name == "agentrt"
    assert with_pool(ALL_SYSTEMS["vanilla"], None) is ALL_SYSTEMS["vanilla"]
    assert "65536" in ALL_SYSTEMS["agentrt"].args           # the original is unchanged


def test_agentrt_flags_reach_only_the_systems_agentrt_serves():
    flags = ("--agentrt-fg-max-chunk-ms", "500")
    bounded = with_agentrt_flags(ALL_SYSTEMS["ttl_only"], flags)
    assert bounded.args[-2:] == flags and bounded.name == "ttl_only"
    assert with_agentrt_flags(ALL_SYSTEMS["vanilla"], flags) is ALL_SYSTEMS["vanilla"]
    assert with_agentrt_flags(ALL_SYSTEMS["agentrt"], ()) is ALL_SYSTEMS["agentrt"]
