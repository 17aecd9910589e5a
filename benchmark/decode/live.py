"""Live decode benchmark: the default model served by `agentrt serve`, AGENTSAM off vs on.

``python -m benchmark.decode.live [--max-new 160] [--draft-tokens 8] [--repeats 2] [--no-write]``

One server per system, started one after the other with the same flags (speculation adds
``--speculative-algorithm AGENTSAM``, which the plugin registers). Batch 1, greedy. Per workload the prompt is sent once
first (its prefix is then cached, so the timed request measures decoding); ``repeats`` distinct
prompts per workload; decode tokens/s = completion tokens / request wall time. Workloads:

- ``agent_edit``: a tool result holding a source file, the agent asked to write the file back
  with one change (output copies the context: what agents do with paths, code, tool output);
- ``prose``: a fresh story with nothing to copy (the non-repetitive control).

Outputs must be identical on and off (checked, reported). One JSON line per system and
workload goes to ``results/decode.jsonl``.
"""
import argparse
import sys
import time

import requests

from benchmark.common import append_result, table

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


def chat(system: str, user: str) -> str:
    return (f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
            "<|im_start|>assistant\n")


def edit(old: str, new: str) -> str:
    return chat("You are a careful coding agent. You edit files by writing them back in full.",
                "Tool result of read_file('app/settings.py'):\n```python\n" + SOURCE + "```\n"
                f"Write the whole file app/settings.py again, unchanged except that the method "
                f"`{old}` is renamed to `{new}`. Reply with the code only.")


def story(topic: str) -> str:
    return chat("You are a creative writer.",
                f"Write a short original story about {topic}. Use vivid, varied language.")


# one distinct prompt per timed repeat: a repeat never replays an earlier request, so drafts
# from the cross-session store (earlier outputs) do not flatter the control
WORKLOADS = {
    "agent_edit": [edit("get", "lookup"), edit("set", "assign"), edit("load", "read")],
    "prose": [story("a lighthouse keeper who finds a strange map"),
              story("a beekeeper who hears the hive sing"),
              story("a train conductor whose watch runs backwards")],
}


def generate(url: str, text: str, max_new: int) -> dict:
    body = {"text": text, "sampling_params": {"max_new_tokens": max_new, "temperature": 0}}
    t0 = time.perf_counter()
    out = requests.post(url + "/generate", json=body, timeout=900)
    out.raise_for_status()
    res = out.json()
    res["wall_s"] = time.perf_counter() - t0
    return res


def measure(url: str, max_new: int, repeats: int) -> dict:
    got = {}
    for name, prompts in WORKLOADS.items():
        runs = []
        for prompt in prompts[:repeats]:
            generate(url, prompt, 1)                   # cache the prompt's prefix
            runs.append(generate(url, prompt, max_new))
        tokens = sum(r["meta_info"]["completion_tokens"] for r in runs)
        wall = sum(r["wall_s"] for r in runs)
        steps = sum(r["meta_info"].get("spec_verify_ct", 0) for r in runs)
        got[name] = {"output_ids": [r["output_ids"] for r in runs], "tokens": tokens, "wall_s": wall,
                     "tok_s": tokens / wall, "verify_steps": steps,
                     "accepted_drafts": sum(r["meta_info"].get("spec_num_correct_drafts", 0)
                                            for r in runs)}
    return got


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-new", type=int, default=160)
    ap.add_argument("--draft-tokens", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=2, choices=(1, 2, 3))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    from agentrt.client.managed_server import ManagedServer

    systems = {"off": [], "agentsam": ["--speculative-algorithm", "AGENTSAM",
                                       "--speculative-num-draft-tokens", str(args.draft_tokens)]}
    results = {}
    for system, flags in systems.items():
        log = f"/tmp/agentrt-decode-live-{system}.log"
        with ManagedServer(flags, log_path=log, ready_timeout_s=600) as srv:
            results[system] = measure(srv.url, args.max_new, args.repeats)

    rows = []
    for name in WORKLOADS:
        off, on = results["off"][name], results["agentsam"][name]
        identical = off["output_ids"] == on["output_ids"]
        for system in systems:
            r = results[system][name]
            per_step = r["tokens"] / r["verify_steps"] if r["verify_steps"] else 1.0
            speedup = r["tok_s"] / off["tok_s"]
            rows.append([name, system, r["tokens"], f"{r['tok_s']:.1f}", f"{speedup:.2f}x",
                         f"{per_step:.2f}", r["accepted_drafts"], identical])
            if not args.no_write:
                append_result("decode", {
                    "benchmark": "decode_live", "model": "default", "workload": name,
                    "system": system, "batch": 1, "max_new_tokens": args.max_new,
                    "repeats": args.repeats, "draft_tokens": args.draft_tokens,
                    "tokens": r["tokens"], "wall_s": round(r["wall_s"], 3),
                    "tok_s": round(r["tok_s"], 2), "speedup": round(speedup, 3),
                    "tokens_per_step": round(per_step, 3),
                    "accepted_drafts": r["accepted_drafts"], "identical_outputs": identical})
    print(table(["workload", "system", "tokens", "tok/s", "vs off", "tokens/step",
                 "accepted drafts", "identical"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
