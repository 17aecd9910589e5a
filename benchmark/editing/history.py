"""A replayed agent's full, unedited history at each turn, as an OpenAI-SDK client keeps it.

Turn k (0-based) sends: the system prompt, the task, then for each earlier step j < k the
assistant reply of the trace carrying one tool call (id ``call_<j>``, function ``tool``,
arguments ``{}``: the traces keep the call inside the reply text) and the ``tool`` message with
the step's output answering it. The model's own replies are not used (as in agent_replay/run.py):
every system sends exactly the same histories.
"""
from benchmark.agent_replay.workload import AgentTrace

TOOL_NAME = "tool"


def step_messages(step, j: int) -> list[dict]:
    """The assistant turn of step ``j`` with its tool call, and the tool's result."""
    call_id = f"call_{j}"
    return [{"role": "assistant", "content": step.assistant,
             "tool_calls": [{"id": call_id, "type": "function",
                             "function": {"name": TOOL_NAME, "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": call_id, "content": step.tool_output}]


def history_at(trace: AgentTrace, k: int) -> list[dict]:
    """The messages sent at turn ``k``: always the whole history, never edited by the client."""
    messages = [{"role": "system", "content": trace.system},
                {"role": "user", "content": trace.task}]
    for j, step in enumerate(trace.steps[:k]):
        messages += step_messages(step, j)
    return messages
