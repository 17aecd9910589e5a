"""``context_management`` validation: defaults, and every bad value names its field (400)."""
import pytest

from agentrt.editing import EditValidationError, parse_context_management
from agentrt.editing.edits.clear_thinking import ClearThinking
from agentrt.editing.edits.clear_tool_uses import ClearToolUses
from agentrt.editing.edits.offload import OffloadSpec
from agentrt.editing.edits.sliding_window import SlidingWindowSpec
from agentrt.editing.edits.summarize import SummarizeSpec
from agentrt.editing.fields import Threshold


def parse(*edits):
    return parse_context_management({"edits": list(edits)}).edits


def test_anthropic_defaults():
    tool, = parse({"type": "clear_tool_uses_20250919"})
    assert tool == ClearToolUses(Threshold("input_tokens", 100_000), 3, None, (), False)
    thinking, = parse({"type": "clear_thinking_20251015"})
    assert thinking == ClearThinking(keep=1)


def test_full_clear_tool_uses_and_keep_all_forms():
    tool, = parse({"type": "clear_tool_uses_20250919",
                   "trigger": {"type": "tool_uses", "value": 7},
                   "keep": {"type": "tool_uses", "value": 0},
                   "clear_at_least": {"type": "input_tokens", "value": 500},
                   "exclude_tools": ["web_search", "memory", "web_search"],
                   "clear_tool_inputs": ["bash"]})
    assert tool == ClearToolUses(Threshold("tool_uses", 7), 0, 500, ("memory", "web_search"),
                                 ("bash",))
    for keep in ("all", {"type": "all"}):
        assert parse({"type": "clear_thinking_20251015", "keep": keep})[0].keep is None
    assert parse({"type": "clear_thinking_20251015",
                  "keep": {"type": "thinking_turns", "value": 4}})[0].keep == 4


def test_agentrt_types_and_defaults():
    s, o, w = parse({"type": "summarize", "trigger": {"tokens": 900}},
                    {"type": "offload"},
                    {"type": "sliding_window", "trigger": {"type": "input_tokens", "value": 80}})
    assert s == SummarizeSpec(Threshold("tokens", 900), keep=20, summary_max_tokens=256)
    assert o == OffloadSpec(threshold=1000, keep=1, exclude_tools=(), trigger=None)
    assert w == SlidingWindowSpec(trigger=80, keep=40)
    assert parse_context_management({}).edits == ()


BAD = [
    ([], "context_management", "must be an object"),
    ({"edits": {}}, "context_management.edits", "must be a list"),
    ({"edit": []}, "context_management.edit", "is not a known field"),
    ({"edits": [3]}, "context_management.edits[0]", "must be an object"),
    ({"edits": [{"type": "compact_20260112"}]}, "context_management.edits[0].type",
     "must be one of"),
    ({"edits": [{}]}, "context_management.edits[0].type", "must be one of"),
    ({"edits": [{"type": "clear_tool_uses_20250919", "keep": {"type": "tool_uses",
                                                              "value": -1}}]},
     "context_management.edits[0].keep.value", "must be an integer >= 0"),
    ({"edits": [{"type": "clear_tool_uses_20250919", "keep": {"type": "tool_uses",
                                                              "value": True}}]},
     "context_management.edits[0].keep.value", "must be an integer >= 0"),
    ({"edits": [{"type": "clear_tool_uses_20250919", "keep": {"type": "input_tokens",
                                                              "value": 3}}]},
     "context_management.edits[0].keep.type", "must be one of tool_uses"),
    ({"edits": [{"type": "clear_tool_uses_20250919", "keep": {"type": "tool_uses"}}]},
     "context_management.edits[0].keep.value", "is required"),
    ({"edits": [{"type": "clear_tool_uses_20250919", "trigger": {"type": "turns",
                                                                 "value": 3}}]},
     "context_management.edits[0].trigger.type", "must be one of input_tokens, tool_uses"),
    ({"edits": [{"type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens",
                                                                 "value": 0}}]},
     "context_management.edits[0].trigger.value", "must be an integer >= 1"),
    ({"edits": [{"type": "clear_tool_uses_20250919", "trigger": 5}]},
     "context_management.edits[0].trigger", "must be an object"),
    ({"edits": [{"type": "clear_tool_uses_20250919", "exclude_tools": "bash"}]},
     "context_management.edits[0].exclude_tools", "must be a list"),
    ({"edits": [{"type": "clear_tool_uses_20250919", "exclude_tools": ["ok", ""]}]},
     "context_management.edits[0].exclude_tools[1]", "must be a non-empty string"),
    ({"edits": [{"type": "clear_tool_uses_20250919", "clear_tool_inputs": "yes"}]},
     "context_management.edits[0].clear_tool_inputs", "must be a boolean or a list"),
    ({"edits": [{"type": "clear_tool_uses_20250919", "clear_at_least": {
        "type": "tool_uses", "value": 2}}]},
     "context_management.edits[0].clear_at_least.type", "must be one of input_tokens"),
    ({"edits": [{"type": "clear_tool_uses_20250919", "keep": {"type": "tool_uses",
                                                              "value": 1, "x": 2}}]},
     "context_management.edits[0].keep.x", "is not a known field"),
    ({"edits": [{"type": "clear_tool_uses_20250919", "triger": {}}]},
     "context_management.edits[0].triger", "is not a known field"),
    ({"edits": [{"type": "clear_thinking_20251015", "keep": {"type": "thinking_turns",
                                                             "value": 0}}]},
     "context_management.edits[0].keep.value", "must be an integer >= 1"),
    ({"edits": [{"type": "clear_thinking_20251015", "keep": "some"}]},
     "context_management.edits[0].keep", 'must be "all"'),
    ({"edits": [{"type": "clear_tool_uses_20250919"}, {"type": "clear_thinking_20251015"}]},
     "context_management.edits[1].type", "must be the first edit"),
    ({"edits": [{"type": "offload"}, {"type": "offload"}]},
     "context_management.edits[1].type", "offload is already edits[0]"),
    ({"edits": [{"type": "summarize"}]},
     "context_management.edits[0].trigger", "is required"),
    ({"edits": [{"type": "summarize", "trigger": {"tokens": 5, "messages": 3}}]},
     "context_management.edits[0].trigger", "must have exactly one of tokens, messages"),
    ({"edits": [{"type": "summarize", "trigger": {"tokens": 5}, "keep": {"tokens": 3}}]},
     "context_management.edits[0].keep.tokens", "is not a known field"),
    ({"edits": [{"type": "summarize", "trigger": {"messages": "5"}}]},
     "context_management.edits[0].trigger.messages", "must be an integer >= 1"),
    ({"edits": [{"type": "summarize", "trigger": {"messages": 5},
                 "summary_max_tokens": 0}]},
     "context_management.edits[0].summary_max_tokens", "must be an integer >= 1"),
    ({"edits": [{"type": "offload", "threshold": {"type": "input_tokens", "value": -5}}]},
     "context_management.edits[0].threshold.value", "must be an integer >= 0"),
    ({"edits": [{"type": "sliding_window"}]},
     "context_management.edits[0].trigger", "is required"),
    ({"edits": [{"type": "sliding_window", "trigger": {"type": "input_tokens", "value": 10},
                 "keep": {"type": "input_tokens", "value": 10}}]},
     "context_management.edits[0].keep.value", "must be less than trigger.value"),
]


@pytest.mark.parametrize("value,field,problem", BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_values_name_the_field(value, field, problem):
    with pytest.raises(EditValidationError) as err:
        parse_context_management(value)
    assert err.value.status == 400
    assert err.value.field == field
    assert str(err.value).startswith(field + " ") and problem in str(err.value)
