"""Print what a workload looks like after scaling: python -m benchmark.agent_replay.traces NAME."""
import argparse
import json
import sys

from benchmark.agent_replay.traces import WORKLOADS, load_workload
from benchmark.agent_replay.traces.stats import trace_stats
from benchmark.agent_replay.traces.tokens import model_counter


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("name", choices=list(WORKLOADS))
    ap.add_argument("--agents", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cuts", action="store_true", help="list what scaling removed, per agent")
    args = ap.parse_args(argv)
    count = model_counter()
    traces = load_workload(args.name, args.agents, args.seed, count_tokens=count)
    print(json.dumps(trace_stats(traces, count), indent=1))
    for t in traces:
        print(f"{t.agent_id}: {len(t.steps)} steps from {t.source or 'synthetic'}")
        for cut in t.cuts if args.cuts else ():
            print(f"    {cut}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
