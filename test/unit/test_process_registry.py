import os

from agentrt.server.launch import process_registry as pr


def test_role_from_main_pid_and_caller():
    assert pr.role_of(10, ["f"], main_pid=10) == pr.ROLE_HTTP
    assert pr.role_of(11, ["register", "load_plugins", "run_scheduler_process"], 10) \
        == pr.ROLE_SCHEDULER
    assert pr.role_of(12, ["run_detokenizer_process"], None) == pr.ROLE_DETOKENIZER
    assert pr.role_of(13, ["main"], 10) == pr.ROLE_OTHER


def test_records_round_trip_and_dead_pids_dropped(tmp_path):
    record = pr.record_this_process(str(tmp_path))
    assert record.pid == os.getpid()
    dead = pr.ProcessRecord(pid=2 ** 22 + 7, ppid=1, role="scheduler", title="x", loaded_at=0.0)
    (tmp_path / f"plugin-{dead.pid}.json").write_text(__import__("json").dumps(dead._asdict()))
    (tmp_path / "plugin-garbage.json").write_text("{not json")
    assert pr.live_records(str(tmp_path)) == [record]
