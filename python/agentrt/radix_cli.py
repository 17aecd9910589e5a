"""`agentrt radix`: print the live radix tree of a server as text or DOT, save a snapshot to a file
and render a saved one later (for bug reports).

    agentrt radix --url http://127.0.0.1:30000                 # indented text
    agentrt radix --url ... --format dot > tree.dot            # Graphviz
    agentrt radix --url ... --save snapshot.json               # keep it
    agentrt radix --load snapshot.json [--format dot|text]     # render a saved snapshot
"""
import argparse
import json
import sys

from agentrt.radix.visualize import to_dot, to_text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="agentrt radix", description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--url", help="server base URL (GET /agentrt/radix)")
    src.add_argument("--load", help="a snapshot saved with --save")
    ap.add_argument("--format", choices=("text", "dot", "json"), default="text")
    ap.add_argument("--save", help="also write the snapshot (JSON) to this file")
    args = ap.parse_args(argv)
    try:
        if args.url:
            import requests

            resp = requests.get(args.url.rstrip("/") + "/agentrt/radix", timeout=60)
            if resp.status_code != 200:
                print(f"agentrt radix: error: HTTP {resp.status_code}: {resp.text[:300]}",
                      file=sys.stderr)
                return 2
            snap = resp.json()
        else:
            with open(args.load) as fh:
                snap = json.load(fh)
            if not isinstance(snap, dict) or "nodes" not in snap:
                raise ValueError("not an agentrt radix snapshot")
    except (OSError, ValueError) as exc:
        print(f"agentrt radix: error: {exc}", file=sys.stderr)
        return 2
    if args.save:
        with open(args.save, "w") as fh:
            json.dump(snap, fh, indent=1)
    if args.format == "json":
        print(json.dumps(snap, indent=1))
    else:
        print(to_dot(snap) if args.format == "dot" else to_text(snap))
    return 0


if __name__ == "__main__":
    sys.exit(main())
