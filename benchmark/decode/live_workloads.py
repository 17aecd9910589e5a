"""Prompts of the live decode benchmark: agent turns from real trajectories, a file edit, prose.

Every workload is a list of distinct prompts (rendered ChatML text, SmolLM2's template); the
benchmark takes the first ones for batch 1 and the next ones for batch 4, so no request ever
replays an earlier one (an earlier output in the cross-session store would flatter the run).

| workload   | prompt                                                               | to copy        |
|------------|----------------------------------------------------------------------|----------------|
| nemo_gym   | a real rollout's system + task + the first j turns (assistant text,  | paths, code,   |
|            | tool outputs), then ``<|im_start|>assistant``: the model writes turn j | tool output    |
| bfcl       | the same over BFCL v4 long-context tasks (function docs, call results)| names, values |
| agent_edit | a ``read_file`` result holding a source file; write it back with one   | the whole file |
|            | method renamed                                                       |                |
| prose      | a new story on a distinct topic (the non-repetitive control)           | nothing        |

Agent turns: traces come from ``benchmark.agent_replay.traces.load_workload`` (seed, scaled
to the default model); j is the largest turn index whose prompt stays within ``budget`` tokens
(j >= 1: at least one real turn and its tool output precede; agents with no such j are
skipped). One prompt per agent, so prompts share nothing but the chat format.
"""
from typing import Callable, Sequence

Encode = Callable[[str], list[int]]

SOURCE = '''import json
from pathlib import Path


class Settings:
    def __init__(self, path: Path):
        self.path = path
        self.values = {}

    def load(self) -> dict:
        if self.path.exists():
            self.values = json.loads(self.path.read_text())
        return self.values

    def save(self) -> None:
        self.path.write_text(json.dumps(self.values, indent=2))

    def get(self, key: str, default=None):
        return self.values.get(key, default)

    def set(self, key: str, value) -> None:
        self.values[key] = value
        self.save()
'''

RENAMES = [("get", "lookup"), ("set", "assign"), ("load", "read"), ("save", "write"),
           ("get", "fetch"), ("set", "put"), ("load", "restore"), ("save", "persist")]

TOPICS = ["a lighthouse keeper who finds a strange map", "a beekeeper who hears the hive sing",
          "a train conductor whose watch runs backwards", "a cartographer lost in a desert city",
          "a violin maker who carves a talking owl", "a glacier guide who meets a wolf at dawn",
          "a baker whose bread rises into clouds", "a diver who discovers a drowned library"]


def message(role: str, text: str) -> str:
    return f"<|im_start|>{role}\n{text}<|im_end|>\n"


def chat(system: str, user: str) -> str:
    return message("system", system) + message("user", user) + "<|im_start|>assistant\n"


def edit(old: str, new: str) -> str:
    return chat("You are a careful coding agent. You edit files by writing them back in full.",
                "Tool result of read_file('app/settings.py'):\n```python\n" + SOURCE + "```\n"
                f"Write the whole file app/settings.py again, unchanged except that the method "
                f"`{old}` is renamed to `{new}`. Reply with the code only.")


def story(topic: str) -> str:
    return chat("You are a creative writer.",
                f"Write a short original story about {topic}. Use vivid, varied language.")


def history_prompt(trace, turns: int) -> str:
    """System, task, the first ``turns`` steps (reply + tool output), then the open reply."""
    text = message("system", trace.system) + message("user", trace.task)
    for step in trace.steps[:turns]:
        text += message("assistant", step.assistant) + message("tool", step.tool_output)
    return text + "<|im_start|>assistant\n"


def agent_turn(trace, encode: Encode, budget: int) -> str | None:
    """The longest history prompt of ``trace`` within ``budget`` tokens (module rule)."""
    best = None
    for turns in range(1, len(trace.steps)):
        text = history_prompt(trace, turns)
        if len(encode(text)) > budget:
            break
        best = text
    return best


def agent_turns(name: str, count: int, seed: int, encode: Encode, budget: int) -> list[str]:
    """``count`` prompts from distinct agents of workload ``name`` (nemo_gym or bfcl)."""
    from benchmark.agent_replay.traces import load_workload

    traces = load_workload(name, 3 * count, seed)
    prompts = [p for p in (agent_turn(t, encode, budget) for t in traces) if p is not None]
    if len(prompts) < count:
        raise ValueError(f"{name}: only {len(prompts)} of {count} agents fit {budget} tokens")
    return prompts[:count]


def build(names: Sequence[str], count: int, seed: int, budget: int,
          encode: Encode | None = None) -> dict[str, list[str]]:
    """``count`` distinct prompts per workload name (see the module table)."""
    fixed = {"agent_edit": [edit(o, n) for o, n in RENAMES], "prose": [story(t) for t in TOPICS]}
    out = {}
    for name in names:
        if name in fixed:
            if count > len(fixed[name]):
                raise ValueError(f"{name} has {len(fixed[name])} prompts, {count} asked")
            out[name] = fixed[name][:count]
        else:
            if encode is None:
                from benchmark.decode.segments import default_encoder

                encode = default_encoder()
            out[name] = agent_turns(name, count, seed, encode, budget)
    return out
