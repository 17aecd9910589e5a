"""The jobs a server that served a workload before has seen: the lengths of the workload's
other traces, for ``--agentrt-job-history`` (python/agentrt/lookahead/job_length.py).

A fleet serving nemo-gym rollouts or BFCL tasks has closed many of them before a benchmark's
four start; a server started for the benchmark has closed none. The benchmark gives agentrt's
server the history the first would have: every trace of the workload's wheel (nemo-gym's
rollouts, BFCL's long-context tasks) that its loader could pick, scaled as the benchmark scales
its agents, but the run's own (their lengths are what the check must not know). A job's length is
the context of its last model call as the replay sends it (system, task, then each earlier
step's assistant and tool messages) counted with the served chat template: the context it
reaches with no transform, as the server measures it (from the requests it serves; a commit
comes only with a model call, so what follows the last one cannot bring one).
Synthetic MiniAgent traces announce their end (a step limit), so they get no history.
"""
from collections.abc import Callable, Iterator

from benchmark.agent_replay.traces import DEFAULT_CAPS, bfcl, nemo_gym
from benchmark.agent_replay.traces.fetch import fetch_wheel
from benchmark.agent_replay.traces.scaling import Counter
from benchmark.agent_replay.workload import AgentTrace

WITH_HISTORY = ("nemo_gym", "bfcl")     # workloads whose population a wheel holds


def other_job_lengths(workload: str, run_traces: list[AgentTrace], count: Counter,
                      count_messages: Callable[[list[dict]], int],
                      cache_dir: str | None = None) -> list[int] | None:
    """The lengths of ``workload``'s traces other than ``run_traces`` (None: no history for
    this workload); ``count`` scales them, ``count_messages`` measures them."""
    if workload not in WITH_HISTORY:
        return None
    own = {t.source for t in run_traces}
    return [count_messages(last_call_context(trace))
            for trace in population(workload, count, cache_dir) if trace.source not in own]


def population(workload: str, count: Counter, cache_dir: str | None = None
               ) -> Iterator[AgentTrace]:
    """Every trace of ``workload``'s wheel its loader could pick (at least ``min_steps``
    steps), each scaled with ``count`` as the loader scales it."""
    caps = DEFAULT_CAPS[workload]
    wheel = fetch_wheel(workload, cache_dir)
    if workload == "nemo_gym":
        for i, rollout in enumerate(nemo_gym.iter_rollouts(wheel)):
            if len(rollout.steps) >= caps.min_steps:
                trace = nemo_gym.to_trace(rollout, f"job-{i}", i, caps, count)
                if trace is not None:
                    yield trace
        return
    tasks, docs = bfcl.read_tasks(wheel)
    outputs = bfcl.run_backends(wheel, tasks)
    for i, task in enumerate(tasks):
        if sum(len(calls) for calls in task.calls) >= caps.min_steps:
            trace = bfcl.to_trace(task, outputs[task.id], docs, f"job-{i}", i, caps, count)
            if trace is not None:
                yield trace


def last_call_context(trace: AgentTrace) -> list[dict]:
    """The messages of the trace's last model call (run.py's ``Replay``: a call, then the
    step's assistant message and tool output)."""
    messages = [{"role": "system", "content": trace.system},
                {"role": "user", "content": trace.task}]
    for step in trace.steps[:-1]:
        messages += [{"role": "assistant", "content": step.assistant},
                     {"role": "tool", "content": step.tool_output}]
    return messages
