"""CPU attention benchmark: SGLang's torch_native vs agentrt_cpu, side by side in one run.

For each backend a fresh `agentrt serve` (default model unless --model-path) measures, with
random-token prompts and median of --repeats:
  - cold prefill of P tokens (cache flushed),
  - extend of 200 new tokens on a P-token cached prefix,
  - decode tokens/s at batch 1 and 8.
Appends one JSON line per backend to benchmark/results/kernels.jsonl and prints a table with
ratios (agentrt_cpu / torch_native, and extend / cold prefill of P+200).

    .venv/bin/python -m benchmark.kernels.run [--quick]
"""
import argparse
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from agentrt.client.flush import flush_cache
from agentrt.client.managed_server import ManagedServer
from benchmark.common import append_result, table

NEW = 200


def generate(url, ids, max_new=1):
    t = time.perf_counter()
    resp = requests.post(f"{url}/generate", json={
        "input_ids": ids, "sampling_params": {"max_new_tokens": max_new, "temperature": 0,
                                              "ignore_eos": True}}, timeout=600)
    resp.raise_for_status()
    return time.perf_counter() - t, resp.json()["meta_info"]


def measure(url, sizes, repeats, rng):
    out = {}
    for p in sizes:
        cold, ext = [], []
        for _ in range(repeats):
            base = [rng.randrange(100, 40000) for _ in range(p)]
            tail = [rng.randrange(100, 40000) for _ in range(NEW)]
            flush_cache(url)
            cold.append(generate(url, base + tail)[0])
            flush_cache(url)
            generate(url, base)
            t, meta = generate(url, base + [rng.randrange(100, 40000) for _ in range(NEW)])
            assert meta["cached_tokens"] >= p - 1, meta
            ext.append(t)
        out[f"cold_{p + NEW}_ms"] = round(statistics.median(cold) * 1000, 1)
        out[f"extend_{NEW}_on_{p}_ms"] = round(statistics.median(ext) * 1000, 1)
    for batch in (1, 8):
        prompts = [[rng.randrange(100, 40000) for _ in range(32)] for _ in range(batch)]
        t = time.perf_counter()
        with ThreadPoolExecutor(batch) as pool:
            list(pool.map(lambda ids: generate(url, ids, 128), prompts))
        out[f"decode_bs{batch}_tok_s"] = round(batch * 128 / (time.perf_counter() - t), 1)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sizes 1k and 4k, one repeat")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model-path", default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    sizes = [1000, 4000] if args.quick else [1000, 2000, 4000, 6000]
    repeats = 1 if args.quick else args.repeats
    results = {}
    for backend in ("torch_native", "agentrt_cpu"):
        # attention kernels compared alone: no speculation (agentrt serve's default turns
        # AGENTSAM on for the default model with agentrt_cpu only)
        server_args = ["--attention-backend", backend, "--max-total-tokens", "32768",
                       "--agentrt-speculative", "off"]
        if args.model_path:
            server_args += ["--model-path", args.model_path]
        print(f"kernels: {backend} ...", file=sys.stderr, flush=True)
        with ManagedServer(server_args) as server:
            results[backend] = measure(server.url, sizes, repeats, random.Random(args.seed))
        append_result("kernels", {"system": backend, "workload": "kernels",
                                  "model": args.model_path or "SmolLM2-135M-Instruct",
                                  "seed": args.seed, "quick": args.quick, **results[backend]})
    base, ours = results["torch_native"], results["agentrt_cpu"]
    rows = []
    for key in base:
        ratio = ours[key] / base[key] if base[key] else float("nan")
        rows.append([key, base[key], ours[key], f"{ratio:.2f}x"])
    print(table(["metric", "torch_native", "agentrt_cpu", "agentrt/native"], rows))
    for p in sizes:
        for name, res in results.items():
            r = res[f"extend_{NEW}_on_{p}_ms"] / res[f"cold_{p + NEW}_ms"]
            print(f"extend({NEW} | {p} cached) / cold({p + NEW}) with {name}: {r:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
