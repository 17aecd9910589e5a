"""The tool-call construct: timing, error messages, the decorator (no server)."""
import time

import pytest
from agentrt.frontend.tool_call import ToolCall, run_tool, tool, tool_call


def test_a_tool_is_timed_and_its_output_becomes_text():
    def slow(n):
        time.sleep(0.05)
        return {"n": n, "items": [1, 2]}

    output, record = run_tool(tool_call("slow", slow, {"n": 3}))
    assert output == '{"n": 3, "items": [1, 2]}'
    assert record.name == "slow" and record.args == {"n": 3} and record.error is None
    assert record.duration_s >= 0.05 and record.output_chars == len(output)


def test_a_raising_tool_becomes_an_error_message():
    def broken():
        raise FileNotFoundError("missing.py")

    output, record = run_tool(tool_call("read", broken))
    assert output == "error: FileNotFoundError: missing.py"
    assert record.error == "FileNotFoundError: missing.py"


def test_decorator_builds_calls_named_after_the_function():
    @tool
    def grep(pattern):
        return f"found {pattern}"

    @tool(name="ls")
    def list_files(path="."):
        return path

    call = grep(pattern="x")
    assert call == ToolCall("grep", call.fn, {"pattern": "x"})
    assert run_tool(call)[0] == "found x"
    assert list_files(path="src").name == "ls"
    assert "need a program decorated" in repr(call)


def test_bad_calls_are_refused_when_written():
    with pytest.raises(TypeError, match="callable"):
        tool_call("x", "not a function")
    with pytest.raises(TypeError, match="dict"):
        tool_call("x", print, ["positional"])
