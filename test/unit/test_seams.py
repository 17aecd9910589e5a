"""The seam table resolves against the installed SGLang, and failures are loud and clear."""
import pytest

from agentrt.config import AgentrtConfig
from agentrt.server.launch import plugin


@pytest.fixture(autouse=True)
def cpu_engine(monkeypatch):
    monkeypatch.setenv("SGLANG_USE_CPU_ENGINE", "1")


def test_every_seam_resolves_on_pinned_sglang():
    assert plugin.installed_sglang_version() == "0.5.23"
    assert plugin.check_seams() == []


def test_missing_seam_is_reported_by_name(monkeypatch):
    missing = plugin.Seam("sglang.srt.mem_cache.radix_cache:RadixCache.no_such_method", "test")
    monkeypatch.setattr(plugin, "SEAMS", plugin.SEAMS + (missing,))
    problems = plugin.check_seams()
    assert [p.seam for p in problems] == [missing]
    assert "no_such_method" in plugin.describe(problems)


def test_wrong_sglang_version_refused(monkeypatch):
    monkeypatch.setattr(plugin, "installed_sglang_version", lambda: "0.5.99")
    problems = plugin.check_seams()
    assert len(problems) == 1 and "0.5.99" in problems[0].error


def test_register_exits_loudly_when_a_seam_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("AGENTRT_CONFIG", AgentrtConfig(state_dir=str(tmp_path)).to_json())
    monkeypatch.setenv("AGENTRT_MAIN_PID", str(__import__("os").getpid()))   # the HTTP process
    monkeypatch.setattr(plugin, "SEAMS", (plugin.Seam("sglang:does_not_exist", "test"),))
    with pytest.raises(SystemExit, match="does_not_exist"):  # SGLang's loader does not catch it
        plugin.register()


def test_scheduler_exits_loudly_when_its_seams_are_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("AGENTRT_CONFIG", AgentrtConfig(state_dir=str(tmp_path)).to_json())
    monkeypatch.delenv("AGENTRT_MAIN_PID", raising=False)                  # another process

    def broken(config):
        plugin.resolve("sglang.srt.mem_cache.registry:no_such_function")

    monkeypatch.setattr(plugin, "install_scheduler_seams", broken)
    with pytest.raises(SystemExit, match="no_such_function"):
        plugin.register()


def test_register_outside_agentrt_serve_does_nothing(monkeypatch, tmp_path):
    monkeypatch.delenv("AGENTRT_CONFIG", raising=False)
    plugin.register()
    assert not list(tmp_path.iterdir())
