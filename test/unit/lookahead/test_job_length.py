"""The end-risk check (lookahead/job_length.py): how likely a job ends before its commit, from
the jobs that ended before it, and a preparation it rules out spends nothing."""
import json

import pytest

from agentrt.lookahead.capacity import ServerLoad, decide_start
from agentrt.lookahead.job_length import MIN_JOBS, EndRisk, JobLengths, write_history


def lengths(*values) -> JobLengths:
    jobs = JobLengths()
    for v in values:
        jobs.add(v)
    return jobs


def test_the_risk_counts_the_jobs_that_reached_the_length_and_ended_below_the_commit():
    jobs = lengths(*[3000] * 10, 3900, 4100, 4500, 4700, *[5500] * 6)
    # 10 jobs of 3000 never reached 3600; of the 10 that did, 4 ended below 4800
    assert jobs.end_risk(3600, 4800) == EndRisk(0.4, 3600, 4800, 10)
    # closer to the commit, the jobs that ended below the running one no longer count
    assert jobs.end_risk(4200, 4800) == EndRisk(2 / 8, 4200, 4800, 8)
    # a context already at its commit size cannot end before it
    assert jobs.end_risk(4200, 4200).risk == 0.0
    assert jobs.to_json() == {"jobs": 20, "median_tokens": 3900, "history": None}


def test_too_few_jobs_that_long_leave_the_risk_unknown():
    jobs = lengths(*[5000] * (MIN_JOBS - 1), *[1000] * 50)
    assert jobs.end_risk(4000, 4800) is None
    jobs.add(5000)
    assert jobs.end_risk(4000, 4800).risk == 0.0


def test_a_job_that_grew_nothing_teaches_nothing_and_only_the_newest_are_kept():
    jobs = JobLengths(keep=3)
    jobs.add(0)
    assert len(jobs) == 0
    for v in (100, 200, 300, 400):
        jobs.add(v)
    assert len(jobs) == 3 and jobs.end_risk(0, 250) is None     # fewer than MIN_JOBS


def test_the_history_file_is_read_at_start_and_appended_per_ended_job(tmp_path):
    path = tmp_path / "jobs.jsonl"
    write_history(str(path), [5000] * MIN_JOBS)
    with open(path, "a") as f:
        f.write("not json\n{\"job_tokens\": -3}\n{\"job_tokens\": true}\n{}\n")
    jobs = JobLengths(str(path))
    assert len(jobs) == MIN_JOBS                                  # bad lines skipped
    jobs.add(4000)
    assert json.loads(path.read_text().splitlines()[-1]) == {"job_tokens": 4000}
    assert len(JobLengths(str(path))) == MIN_JOBS + 1             # a restart knows it
    assert len(JobLengths(str(tmp_path / "absent.jsonl"))) == 0


def test_an_unwritable_history_keeps_learning_in_memory(tmp_path):
    jobs = JobLengths(str(tmp_path / "no-such-dir" / "jobs.jsonl"))
    jobs.add(4000)
    jobs.add(4100)
    assert len(jobs) == 2 and jobs.path == ""


LOAD = ServerLoad(prefill_ms_per_token=1.0, foreground_share=0.0)


def test_a_likely_end_defers_whatever_the_idle_time_and_a_likely_commit_leaves_it_to_capacity():
    risky = EndRisk(0.6, 3600, 4800, 20)
    decision = decide_start(LOAD, 1000, 100.0, None, risky)
    assert not decision.start and decision.reason.startswith("ends first: 60% of 20 jobs")
    assert decision.end_risk == 0.6
    assert decide_start(LOAD, 1000, 100.0, None, risky, max_end_risk=0.7).start
    safe = decide_start(LOAD, 1000, 100.0, None, EndRisk(0.1, 4400, 4800, 20))
    assert safe.start and safe.end_risk == 0.1
    # a likely commit still needs the idle time
    assert not decide_start(LOAD, 1000, 1.0, None, EndRisk(0.1, 4400, 4800, 20)).start


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_the_end_risk_bound_is_a_share(bad):
    from agentrt.config import AgentrtConfig
    with pytest.raises(ValueError, match="max-end-risk"):
        AgentrtConfig(max_end_risk=bad)
