"""Run BFCL's simulated tool backends on ground-truth calls; a script for a separate process.

    PYTHONPATH=<extracted bfcl_eval wheel> python bfcl_backend.py < tasks.json > outputs.json

stdin: a JSON list of {"id", "involved_classes", "initial_config", "calls": [[call, ...], ...]}.
stdout: {"<id>": [[output, ...], ...]}. Backends are loaded in ``long_context`` mode (the BFCL v4
long-context category). A call string is parsed with `ast` and only literal arguments are
accepted, so nothing is ``eval``-ed. `random` is seeded per task so outputs are reproducible.
Only the standard library and bfcl_eval (plus mpmath for MathAPI) are imported here.
"""
import ast
import copy
import importlib
import json
import random
import sys


def _instances(task: dict) -> dict:
    from bfcl_eval.constants.executable_backend_config import (
        CLASS_FILE_PATH_MAPPING,
        STATELESS_CLASSES,
    )

    by_method = {}
    for cls_name in task["involved_classes"]:
        cls = getattr(importlib.import_module(CLASS_FILE_PATH_MAPPING[cls_name]), cls_name)
        obj = cls()
        if cls_name not in STATELESS_CLASSES:
            obj._load_scenario(copy.deepcopy(task["initial_config"].get(cls_name, {})),
                               long_context=True)
        for name in dir(obj):
            if not name.startswith("_") and callable(getattr(obj, name)):
                by_method[name] = obj
    return by_method


def call(by_method: dict, text: str) -> str:
    node = ast.parse(text.strip(), mode="eval").body
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise TypeError(f"not a plain function call: {text}")
    if node.func.id not in by_method:
        raise ValueError(f"no backend has a function {node.func.id}")
    args = [ast.literal_eval(a) for a in node.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    result = getattr(by_method[node.func.id], node.func.id)(*args, **kwargs)
    if isinstance(result, str):
        return result
    try:
        return json.dumps(result)
    except (TypeError, ValueError):
        return str(result)


def run_task(index: int, task: dict) -> list:
    random.seed(index)
    by_method = _instances(task)
    turns = []
    for calls in task["calls"]:
        outs = []
        for text in calls:
            try:
                outs.append(call(by_method, text))
            except Exception as exc:  # noqa: BLE001 - the backend's own error is the tool output, as in BFCL
                outs.append(f"Error during execution: {exc}")
        turns.append(outs)
    return turns


def main() -> int:
    tasks = json.load(sys.stdin)
    json.dump({t["id"]: run_task(i, t) for i, t in enumerate(tasks)}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
