"""The systems compared side by side: each gets a fresh server with the same model and flags.

    vanilla           plain `sglang.launch_server` (torch_native attention), transforms synchronous
    session_priority  plain SGLang with its session radix cache (``--enable-session-radix-cache``:
                      each agent's KV is referenced by its ``session_id`` and evicted last) and
                      priority scheduling; transforms synchronous
    ttl_only          agentrt serve with Continuum-style TTL pins only: every turn that ends in a
                      tool call pins the agent's KV for the tool's TTL, programs are ordered
                      pinned-first / program FCFS; no lookahead (transforms synchronous)
    kernel_only       agentrt serve with its CPU attention, lookahead off (transforms synchronous)
    agentrt           agentrt serve, full: lookahead runtime, branches, scheduling, TTL pins,
                      the continuum program policy; speculation off (``--agentrt-speculative
                      auto`` is off when ``--model-path`` is given, as here)
    agentrt_spec      agentrt, plus AGENTSAM speculative decoding (``--agentrt-speculative
                      agentsam``, step 12): agentrt vs agentrt_spec is speculation off vs on
    server_edit       the agentrt server as agentrt runs it; the agents run no agentrt code: an
                      ``openai`` SDK client sending the full history with server-side
                      ``context_management`` (``sdk_agent.py``: clear_tool_uses at agentrt's
                      hard threshold, the server's lookahead from its soft one; issue 17)
    server_edit_sync  the same, ``lookahead: false``: the server applies the edit synchronously

The two server_edit systems are opt-in (``OPT_IN``): named with ``--systems`` only.

The interference benchmark adds ``agentrt_bg_off``: the agentrt server with the lookahead runtime
off on the client side (no background work at all), the same-run baseline for ``agentrt``.
"""
from dataclasses import dataclass, replace
from typing import Optional

COMMON = ["--max-total-tokens", "65536"]
# agentrt full runs with the program policy ttl_only uses (Continuum's pinned-first program FCFS),
# so agentrt vs ttl_only isolates what lookahead adds
AGENTRT = ["--agentrt-program-policy", "continuum"]
CPU_SGLANG = ["--device", "cpu", "--dtype", "float32", "--sleep-on-idle", "--attention-backend",
              "torch_native", "--enable-cache-report"]


@dataclass(frozen=True)
class System:
    name: str
    module: str
    args: tuple[str, ...]
    lookahead: bool          # the client runs the lookahead runtime (background preparation)
    tool_hints: bool = False  # turns that end in a tool call say so (agent_hints.tool_name)
    agentrt_session: bool = False  # the agent opens an agentrt session (pins need one)
    # the agents are sdk_agent.py's: edits by the server (True: with its lookahead, False:
    # synchronous); None: run.Replay.agent's agents with agentrt's client-side runtime
    server_edit: Optional[bool] = None


SYSTEMS = {s.name: s for s in (
    System("vanilla", "sglang.launch_server", tuple(CPU_SGLANG + COMMON), False),
    System("session_priority", "sglang.launch_server",
           tuple(CPU_SGLANG + ["--enable-session-radix-cache", "--enable-priority-scheduling"]
                 + COMMON), False),
    System("ttl_only", "agentrt.launch_server", tuple(AGENTRT + COMMON), False, tool_hints=True,
           agentrt_session=True),
    System("kernel_only", "agentrt.launch_server",
           tuple(["--no-agentrt-lookahead"] + COMMON), False),
    System("agentrt", "agentrt.launch_server", tuple(AGENTRT + COMMON), True, tool_hints=True),
    System("agentrt_spec", "agentrt.launch_server",
           tuple(AGENTRT + ["--agentrt-speculative", "agentsam"] + COMMON), True, tool_hints=True),
    System("server_edit", "agentrt.launch_server", tuple(AGENTRT + COMMON), False,
           server_edit=True),
    System("server_edit_sync", "agentrt.launch_server", tuple(AGENTRT + COMMON), False,
           server_edit=False),
)}
OPT_IN = ("server_edit", "server_edit_sync")      # never in a default list of systems
DEFAULT = tuple(name for name in SYSTEMS if name not in OPT_IN)

BG_OFF = System("agentrt_bg_off", "agentrt.launch_server", tuple(AGENTRT + COMMON), False,
                tool_hints=True, agentrt_session=True)


def with_pool(system: System, max_total_tokens: int | None) -> System:
    """``system`` with its KV pool (``--max-total-tokens``) set to ``max_total_tokens`` (None:
    unchanged)."""
    if max_total_tokens is None:
        return system
    args = list(system.args)
    i = args.index("--max-total-tokens")
    args[i + 1] = str(max_total_tokens)
    return replace(system, args=tuple(args))


def with_agentrt_flags(system: System, flags: tuple[str, ...]) -> System:
    """``system`` with ``flags`` (``--agentrt-*`` server flags) added when agentrt serves it;
    a plain SGLang system is returned unchanged."""
    if not flags or system.module != "agentrt.launch_server":
        return system
    return replace(system, args=system.args + tuple(flags))
