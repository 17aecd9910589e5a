"""The systems compared side by side: each gets a fresh server with the same model and flags.

    vanilla      plain `sglang.launch_server` (torch_native attention), transforms synchronous
    kernel_only  agentrt serve with its CPU attention, lookahead off (transforms synchronous)
    agentrt      agentrt serve, full: lookahead runtime, branches, scheduling

(`session_priority` and `ttl_only` of the step-8 plan are not implemented yet.)
"""
from dataclasses import dataclass

COMMON = ["--max-total-tokens", "65536"]
CPU_SGLANG = ["--device", "cpu", "--dtype", "float32", "--sleep-on-idle"]


@dataclass(frozen=True)
class System:
    name: str
    module: str
    args: tuple[str, ...]
    lookahead: bool


SYSTEMS = {s.name: s for s in (
    System("vanilla", "sglang.launch_server",
           tuple(CPU_SGLANG + ["--attention-backend", "torch_native", "--enable-cache-report"]
                 + COMMON), False),
    System("kernel_only", "agentrt.launch_server",
           tuple(["--no-agentrt-lookahead"] + COMMON), False),
    System("agentrt", "agentrt.launch_server", tuple(COMMON), True),
)}
