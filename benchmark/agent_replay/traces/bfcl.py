"""BFCL v4 long-context multi-turn tasks from the bfcl-eval wheel, with real tool outputs.

Data (JSON lines inside the wheel, read with zipfile):
    bfcl_eval/data/BFCL_v4_multi_turn_long_context.json           questions, per turn
    bfcl_eval/data/possible_answer/BFCL_v4_multi_turn_long_context.json  ground-truth calls
    bfcl_eval/data/multi_turn_func_doc/<class>.json               function docs

Tool outputs come from running BFCL's own pure-Python simulated backends (file system, trading
bot, travel booking, vehicle control, ...) in ``long_context`` mode on the ground-truth calls, in
a separate process (bfcl_backend.py) over the wheel extracted into the cache; results are cached.

Trace shape: system = a short instruction + the docs of the functions the task uses (its
``path``), task = the first user turn; one step per ground-truth call (assistant text = the call,
tool output = the backend's answer); each later user turn is appended to the tool output of the
last call before it. The wheel has no model replies, so a turn's closing answer is not replayed.
Tool durations come from Continuum's BFCL statistics (1,923 +- 2,133 ms).
"""
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from benchmark.agent_replay.traces import durations
from benchmark.agent_replay.traces.fetch import WHEELS, cache_lock
from benchmark.agent_replay.traces.scaling import (
    DEFAULT,
    Caps,
    Counter,
    RawStep,
    scaled_trace,
)
from benchmark.agent_replay.traces.selection import pick_agents
from benchmark.agent_replay.workload import AgentTrace

DATA = "bfcl_eval/data/"
QUESTIONS = DATA + "BFCL_v4_multi_turn_long_context.json"
ANSWERS = DATA + "possible_answer/BFCL_v4_multi_turn_long_context.json"
FUNC_DOCS = {"GorillaFileSystem": "gorilla_file_system.json", "MathAPI": "math_api.json",
             "MessageAPI": "message_api.json", "TwitterAPI": "posting_api.json",
             "TicketAPI": "ticket_api.json", "TradingBot": "trading_bot.json",
             "TravelAPI": "travel_booking.json", "VehicleControlAPI": "vehicle_control.json"}
SYSTEM = ("You are an agent that completes the user's requests by calling the functions below, "
          "one call per reply, until each request is done. Functions (JSON):\n")
BACKEND_VERSION = 1     # bump when bfcl_backend.py changes what it writes


@dataclass(frozen=True)
class Task:
    id: str
    turns: tuple[str, ...]                   # the user's message of each turn
    calls: tuple[tuple[str, ...], ...]       # ground-truth calls of each turn
    involved_classes: tuple[str, ...]
    initial_config: dict
    functions: tuple[str, ...]               # "Class.method" names the task uses


def _jsonl(zf: zipfile.ZipFile, name: str) -> list[dict]:
    return [json.loads(line) for line in zf.read(name).decode().splitlines() if line.strip()]


def parse_task(question: dict, answer: dict) -> Task:
    turns = tuple("\n".join(m["content"] for m in turn if m.get("role") == "user")
                  for turn in question["question"])
    return Task(question["id"], turns, tuple(tuple(t) for t in answer["ground_truth"]),
                tuple(question["involved_classes"]), question.get("initial_config", {}),
                tuple(question.get("path", ())))


def read_tasks(wheel: Path) -> tuple[list[Task], dict[str, dict]]:
    """The tasks in file order and the function docs by name."""
    with zipfile.ZipFile(wheel) as zf:
        answers = {a["id"]: a for a in _jsonl(zf, ANSWERS)}
        tasks = [parse_task(q, answers[q["id"]]) for q in _jsonl(zf, QUESTIONS)]
        docs = {d["name"]: d for f in FUNC_DOCS.values()
                for d in _jsonl(zf, DATA + "multi_turn_func_doc/" + f)}
    return tasks, docs


def raw_steps(task: Task, outputs: list[list[str]]) -> list[RawStep]:
    """One step per call; later user turns join the output of the last call before them."""
    steps: list[list[str]] = []
    pending: list[str] = []                  # user turns that came after a turn with no call
    for turn_no, (calls, outs) in enumerate(zip(task.calls, outputs, strict=True)):
        if turn_no > 0:
            pending.append(f"[user] {task.turns[turn_no]}")
        for call_text, out in zip(calls, outs, strict=True):
            if pending and steps:
                steps[-1][1] += "\n\n" + "\n\n".join(pending)
                pending = []
            steps.append([f"[call] {call_text}", out if out.strip() else "(no output)"])
    return [RawStep(a, o) for a, o in steps]


def system_prompt(task: Task, docs: dict[str, dict]) -> str:
    names = [f.split(".", 1)[-1] for f in task.functions]
    return SYSTEM + "\n".join(json.dumps(docs[n]) for n in dict.fromkeys(names) if n in docs)


def extracted_package(wheel: Path) -> Path:
    """The wheel unpacked (it is pure Python) next to it, once; never installed into the venv."""
    target = wheel.parent / f"bfcl_pkgs-{WHEELS['bfcl'].sha256[:12]}"
    done = target / ".complete"
    if not done.is_file():
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(target)
        done.write_text(WHEELS["bfcl"].filename + "\n")
    return target


def run_backends(wheel: Path, tasks: list[Task], timeout_s: float = 300.0) -> dict:
    """{task id: [[output per call] per turn]}, from the cache or by running bfcl_backend.py."""
    with cache_lock(wheel.parent):
        return _run_backends_locked(wheel, tasks, timeout_s)


def _run_backends_locked(wheel: Path, tasks: list[Task], timeout_s: float) -> dict:
    cache = wheel.parent / f"bfcl_outputs-{WHEELS['bfcl'].sha256[:12]}-v{BACKEND_VERSION}.json"
    if cache.is_file():
        outputs = json.loads(cache.read_text())
        if all(t.id in outputs for t in tasks):
            return outputs
    payload = [{"id": t.id, "involved_classes": list(t.involved_classes),
                "initial_config": t.initial_config, "calls": [list(c) for c in t.calls]}
               for t in tasks]
    env = {**os.environ, "PYTHONPATH": str(extracted_package(wheel))}
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("bfcl_backend.py"))],
                          input=json.dumps(payload), capture_output=True, text=True, env=env,
                          timeout=timeout_s, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"BFCL backends failed (exit {proc.returncode}):\n"
                           + "\n".join(proc.stderr.strip().splitlines()[-8:]))
    outputs = json.loads(proc.stdout)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(outputs))
    tmp.replace(cache)
    return outputs


def to_trace(task: Task, outputs: list[list[str]], docs: dict, agent_id: str, seed: int,
             caps: Caps, count: Counter, max_tool_s: float = 3.0) -> AgentTrace | None:
    return scaled_trace(agent_id, system_prompt(task, docs), task.turns[0],
                        raw_steps(task, outputs), caps, count, seed, durations.BFCL, max_tool_s,
                        f"bfcl:{task.id}")


def load(wheel: Path, n_agents: int, seed: int, count: Counter, caps: Caps = DEFAULT,
         min_tokens: int = 0, max_tool_s: float = 3.0) -> list[AgentTrace]:
    """``n_agents`` tasks drawn with ``seed`` among those with at least ``caps.min_steps`` calls
    and ``min_tokens`` tokens of context after scaling."""
    tasks, docs = read_tasks(wheel)
    outputs = run_backends(wheel, tasks)
    candidates = [t for t in tasks if sum(len(c) for c in t.calls) >= caps.min_steps]
    return pick_agents(candidates, lambda task, agent_id, trace_seed: to_trace(
        task, outputs[task.id], docs, agent_id, trace_seed, caps, count, max_tool_s),
        n_agents, seed, count, caps, min_tokens, "BFCL tasks")
