"""The agentrt plugin is live inside SGLang's scheduler process of a running server."""
import psutil
import requests


def test_plugin_loaded_in_scheduler_and_detokenizer(server, url):
    info = requests.get(f"{url}/agentrt/info", timeout=10).json()
    by_role = {}
    for record in info["plugin_processes"]:
        by_role.setdefault(record["role"], []).append(record)
    assert set(by_role) >= {"http", "scheduler", "detokenizer"}
    http_pid = by_role["http"][0]["pid"]
    assert http_pid == server.proc.pid
    scheduler = psutil.Process(by_role["scheduler"][0]["pid"])
    # the scheduler is a child of the server and calls itself sglang::scheduler once running
    assert scheduler.ppid() == http_pid
    assert "sglang::scheduler" in " ".join(scheduler.cmdline())
    assert info["sglang_version"] == "0.5.23"


def test_unknown_agentrt_route_is_404(url):
    assert requests.get(f"{url}/agentrt/nope", timeout=10).status_code == 404
