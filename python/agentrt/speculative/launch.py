"""``python -m agentrt.speculative.launch [agentrt serve flags]``: `agentrt serve` with AGENTSAM
registered, until the plugin and the launcher call ``register_algorithm()`` themselves.

Registration must happen in every SGLang process that resolves the algorithm's name. This module
registers at import time: SGLang spawns its scheduler and detokenizer with multiprocessing's
"spawn", which re-imports the parent's ``-m`` main module (as ``__mp_main__``) in each child, so
the children register too, before ``run_scheduler_process`` runs. Then it delegates to
``agentrt.server.launch_server.main`` unchanged (which resolves ``ServerArgs`` after this).
Used by the integration test and the decode benchmark (``ManagedServer(module=MODULE)``).
"""
import sys

from agentrt.server import cpu_defaults

MODULE = "agentrt.speculative.launch"

if not cpu_defaults.has_cuda():
    cpu_defaults.enable_cpu_engine()  # before the first SGLang import, as the launcher does

from agentrt.speculative.register import register_algorithm  # noqa: E402

register_algorithm()


def main(argv: list[str] | None = None) -> int:
    from agentrt.server.launch_server import main as serve

    return serve(argv)


if __name__ == "__main__":
    sys.exit(main())
