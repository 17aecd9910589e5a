import pytest

from agentrt.demo import tools
from agentrt.demo.agent import plan, tool_call_text


def test_read_file_truncates_and_refuses_escape(tmp_path):
    (tmp_path / "a.txt").write_text("x" * 50)
    assert tools.read_file(tmp_path, "a.txt", max_chars=10).startswith("x" * 10 + "\n... [40")
    with pytest.raises(tools.ToolError, match="outside"):
        tools.read_file(tmp_path, "../etc/passwd")
    with pytest.raises(tools.ToolError, match="not a file"):
        tools.read_file(tmp_path, "missing.txt")


def test_list_files_outside_git_skips_venv(tmp_path):
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "x.py").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("")
    assert tools.list_files(tmp_path) == ["pkg/m.py"]


def test_plan_prefers_known_files_in_order():
    files = ["z.py", "Makefile", "README.md", "data.bin", "a.md"]
    assert plan(files, 4) == ["README.md", "Makefile", "z.py", "a.md"]
    assert tool_call_text("read_file", path="a") == \
        '<tool_call>{"name": "read_file", "arguments": {"path": "a"}}</tool_call>'
