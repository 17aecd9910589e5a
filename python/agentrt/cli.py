"""The `agentrt` command: `agentrt serve ...`, `agentrt model`, `agentrt demo ...`."""
import sys

USAGE = """usage: agentrt <command> [args]

commands:
  serve   launch an SGLang server with agentrt inside (every sglang flag + --agentrt-*)
  model   prepare the embedded default model (offline) and print its path
  demo    run the demo agent against a fresh server on the default model
  radix   print a server's radix tree (text / DOT), save a snapshot, render a saved one
  cluster N agentrt workers behind SGLang's router (smg), session-affine: --workers N --port P
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "serve":
        from agentrt.server.launch.main import main as serve

        return serve(rest)
    if command == "model":
        from agentrt.models import ModelError, prepare_default_model

        try:
            print(prepare_default_model(rest[0] if rest else None))
        except ModelError as exc:
            print(f"agentrt model: error: {exc}", file=sys.stderr)
            return 2
        return 0
    if command == "radix":
        from agentrt.radix_cli import main as radix

        return radix(rest)
    if command == "cluster":
        from agentrt.cluster.launch import main as cluster

        return cluster(rest)
    if command == "demo":
        from agentrt.demo.__main__ import main as demo

        return demo(rest)
    print(f"agentrt: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
