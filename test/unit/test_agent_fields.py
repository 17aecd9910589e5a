import pytest

from agentrt.server.http.agent_fields import BACKGROUND_PRIORITY, FOREGROUND_PRIORITY, extract
from agentrt.server.http.fields import FieldError


def test_smoothagent_fields_map_to_priority_and_session():
    body = {"messages": [], "request_class": "bg", "is_lookahead": True,
            "lookahead_group_id": "agent-7", "commit_deadline_ms": 500, "slo_ttft_ms": 200}
    clean, fields = extract(body)
    assert clean == {"messages": [], "priority": BACKGROUND_PRIORITY, "session_id": "agent-7"}
    assert fields.background and fields.values["commit_deadline_ms"] == 500.0
    assert "request_class" in body  # the input is not modified


def test_foreground_and_explicit_values_win():
    clean, _ = extract({"priority_class": "lc", "priority": 3, "session_id": "s",
                        "program_id": "p"})
    assert clean == {"priority": 3, "session_id": "s"}
    clean, _ = extract({"request_class": "fg"})
    assert clean["priority"] == FOREGROUND_PRIORITY > BACKGROUND_PRIORITY


def test_continuum_and_agent_hints_tool_pins():
    _, fields = extract({"program_id": "p1", "this_func_call": "bash"})
    assert fields.tool_name == "bash" and fields.group_id == "p1" and fields.ttl_s is None
    _, fields = extract({"agent_hints": {"workflow_id": "w", "tool_name": "grep",
                                         "cache_ttl_ms": 1500}})
    assert fields.tool_name == "grep" and fields.ttl_s == 1.5 and fields.group_id == "w"
    _, fields = extract({"this_func_call": "bash", "is_last_step": True})
    assert fields.tool_name is None


def test_plain_requests_pass_untouched():
    body = {"text": "hi", "sampling_params": {}}
    clean, fields = extract(body)
    assert clean == body and not fields


@pytest.mark.parametrize("body, words", [
    ({"request_class": "urgent"}, "request_class"),
    ({"is_lookahead": "yes"}, "is_lookahead"),
    ({"slo_ttft_ms": -1}, "slo_ttft_ms"),
    ({"commit_deadline_ms": "soon"}, "commit_deadline_ms"),
    ({"agent_hints": []}, "agent_hints"),
    ({"agent_hints": {"bogus": 1}}, "agent_hints.bogus"),
    ({"agent_hints": {"step_index": 1.5}}, "agent_hints.step_index"),
])
def test_bad_values_name_the_field(body, words):
    with pytest.raises(FieldError, match=words.replace(".", r"\.")):
        extract(body)
