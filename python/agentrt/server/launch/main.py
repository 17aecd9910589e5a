"""`agentrt serve` / `python -m agentrt.launch_server`: SGLang's launch_server with agentrt inside.

Accepts every SGLang ``launch_server`` flag plus the ``--agentrt-*`` flags of AgentrtConfig. Before
anything heavy starts it checks, and refuses with one clear line, a wrong or missing SGLang, a
missing seam, a model path that does not exist, a port in use and an unwritable cache directory.
Without ``--model-path`` it serves the embedded default model (agentrt.models). On a machine
without CUDA it fills in the CPU defaults that were measured to work (see cpu_defaults.py).
"""
import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import replace

from agentrt import env
from agentrt.config import AgentrtConfig
from agentrt.server.launch import cpu_defaults, plugin
from agentrt.server.launch.cli_args import flag_value, has_flag, with_default
from agentrt.speculative import serve_default


class LaunchError(Exception):
    """A problem found before the server starts; the message is shown to the user as is."""


def agentrt_parser(add_help: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentrt serve", add_help=add_help,
        description="Launch an SGLang server with agentrt's lookahead runtime. Takes every "
                    "SGLang launch_server flag plus the --agentrt-* flags below.")
    AgentrtConfig.add_cli_args(parser)
    parser.add_argument(
        "--agentrt-speculative", choices=serve_default.MODES, default="auto",
        help="AGENTSAM speculative decoding: auto (default) turns it on where the decode "
             "benchmark shows it wins (CPU, embedded default model, agentrt_cpu attention), "
             "off never, agentsam always")
    return parser


def print_full_help() -> None:
    parser = agentrt_parser(add_help=True)
    from sglang.srt.server_args import ServerArgs

    sglang_group = parser.add_argument_group("sglang launch_server flags")
    fake = argparse.ArgumentParser(add_help=False)
    ServerArgs.add_cli_args(fake)
    for action in fake._actions:  # show SGLang's flags under their own heading
        sglang_group._group_actions.append(action)
    parser.print_help()


def resolve_model(sglang_argv: list[str], config: AgentrtConfig) -> list[str]:
    model = flag_value(sglang_argv, "--model-path", "--model")
    if model is None:
        from agentrt.models import ModelError, prepare_default_model

        try:
            path = prepare_default_model(config.resolved_cache_dir)
        except ModelError as exc:
            raise LaunchError(str(exc)) from exc
        return ["--model-path", str(path)] + sglang_argv
    if not os.path.isdir(os.path.expanduser(model)):
        raise LaunchError(f"model path {model!r} does not exist or is not a directory (agentrt "
                          "serves local model folders; nothing is downloaded from a hub)")
    return sglang_argv


def check_port(sglang_argv: list[str]) -> None:
    import socket

    host = flag_value(sglang_argv, "--host") or "127.0.0.1"
    port = int(flag_value(sglang_argv, "--port") or 30000)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as uvicorn binds: a port left in TIME_WAIT by a stopped server is free, a listening
        # one is not
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise LaunchError(f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                              "(is another server running? pick one with --port)") from exc


def prepare(argv: list[str]) -> tuple[AgentrtConfig, list[str], bool]:
    """Parse and check everything; return (config, SGLang argv, whether state_dir is ours)."""
    ns, sglang_argv = agentrt_parser(add_help=False).parse_known_args(argv)
    try:
        config = AgentrtConfig.from_cli_args(ns)
    except ValueError as exc:
        raise LaunchError(str(exc)) from exc
    on_cpu = not cpu_defaults.has_cuda()
    if on_cpu:
        cpu_defaults.enable_cpu_engine()  # before the first sglang import, which reads it
    problems = plugin.check_seams()
    if problems:
        raise LaunchError(plugin.describe(problems))
    default_model = flag_value(sglang_argv, "--model-path", "--model") is None
    sglang_argv = resolve_model(sglang_argv, config)
    if on_cpu and config.cpu_defaults:
        sglang_argv = cpu_defaults.apply(sglang_argv, config)
    if on_cpu and config.cpu_attention:
        sglang_argv = with_default(sglang_argv, "--attention-backend", "agentrt_cpu")
    # prompt_tokens_details.cached_tokens in every usage block: prefix hits must be observable
    sglang_argv = with_default(sglang_argv, "--enable-cache-report")
    if config.lookahead and not has_flag(sglang_argv, "--disable-radix-cache"):
        sglang_argv = with_default(sglang_argv, "--radix-cache-backend", plugin.RADIX_BACKEND)
        # background preparation is the lowest class (agent_fields.BACKGROUND_PRIORITY); plain
        # requests default to the foreground priority 0
        sglang_argv = with_default(sglang_argv, "--enable-priority-scheduling")
        sglang_argv = with_default(sglang_argv, "--default-priority-value", "0")
    try:
        sglang_argv = serve_default.apply(sglang_argv, ns.agentrt_speculative, on_cpu,
                                          default_model)
    except ValueError as exc:
        raise LaunchError(str(exc)) from exc
    check_port(sglang_argv)
    own_state_dir = not config.state_dir
    if own_state_dir:
        config = replace(config, state_dir=tempfile.mkdtemp(prefix="agentrt-state-"))
    return config, sglang_argv, own_state_dir


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        print_full_help()
        return 0
    try:
        config, sglang_argv, own_state_dir = prepare(argv)
    except LaunchError as exc:
        print(f"agentrt serve: error: {exc}", file=sys.stderr)
        return 2
    env.export_for_children(config.to_json(), os.getpid())
    print(f"agentrt serve: sglang {' '.join(sglang_argv)}", flush=True)

    from sglang.launch_server import run_server
    from sglang.srt.plugins import load_plugins
    from sglang.srt.server_args import prepare_server_args
    from sglang.srt.utils import kill_process_tree

    load_plugins()  # runs agentrt.server.launch.plugin:register() here, in the HTTP process
    try:
        run_server(prepare_server_args(sglang_argv))
    finally:
        kill_process_tree(os.getpid(), include_parent=False)
        if own_state_dir:
            shutil.rmtree(config.state_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
