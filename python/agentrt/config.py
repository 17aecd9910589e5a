"""AgentrtConfig: every agentrt flag in one frozen dataclass.

Each field is a CLI flag ``--agentrt-<field-with-dashes>``; its help text lives in the field's
metadata, so the parser, `agentrt serve --help` and the docs cannot drift apart. The launcher
passes the parsed config to SGLang's processes as JSON through the environment (see env.py).
"""
import argparse
import dataclasses
import json
from dataclasses import dataclass, field
from typing import Optional

from agentrt import env

FLAG_PREFIX = "--agentrt-"
# Foreground orders across agent programs (server/scheduling/policy.py implements each by name).
PROGRAM_POLICY_NAMES = ("fcfs", "continuum", "agentsched")


def _flag(default, help: str, **kw):
    return field(default=default, metadata={"help": help, **kw})


@dataclass(frozen=True)
class AgentrtConfig:
    cache_dir: str = _flag(
        "", "Directory for prepared models (default: $AGENTRT_CACHE_DIR or ~/.cache/agentrt).")
    state_dir: str = _flag(
        "", "Directory where each SGLang process records that the agentrt plugin loaded "
            "(default: a fresh temporary directory per server).")
    cpu_defaults: bool = _flag(
        True, "On a machine without CUDA, apply agentrt's CPU defaults (CPU engine, --device cpu, "
              "float32, --sleep-on-idle, a KV pool sized for the machine) where not given.")
    kv_memory_fraction: float = _flag(
        0.10, "On CPU, when --max-total-tokens is not given: fraction of available RAM for the "
              "KV pool.")
    kv_max_tokens: int = _flag(
        262144, "On CPU, upper bound of the KV pool chosen from --agentrt-kv-memory-fraction.")

    cpu_attention: bool = _flag(
        True, "On CPU, use sgl-kernel-ext's agentrt_cpu attention backend (extend costs "
              "O(new x total)) unless --attention-backend is given.")
    lookahead: bool = _flag(
        True, "Serve with LookaheadRadixCache (--radix-cache-backend agentrt_lookahead) and the "
              "/agentrt/sessions API.")
    lookahead_budget_fraction: float = _flag(
        0.5, "Fraction of the KV pool that prepared branches may hold beyond what the sessions' "
             "own contexts and pins hold; past it the oldest branch is abandoned (KV pressure "
             "abandons branches before any foreground request waits, whatever the budget).")
    commit_pin_ttl_s: float = _flag(
        30.0, "After a commit, keep the committed branch pinned this long for the commit request.")
    job_history: str = _flag(
        "", "File of ended jobs' lengths (JSON lines), read at start and appended at each "
            "session close, so the end-risk check knows the workload's jobs across restarts "
            "(\"\": learned in memory from this run's closed sessions only).")
    max_end_risk: float = _flag(
        0.5, "A background preparation starts only while at most this share of the ended jobs "
             "that reached the session's job length ended before its commit would come (0.5: "
             "the break-even of saved against wasted tokens; lower: less waste, fewer ready "
             "commits).")
    tool_ttl_default_s: float = _flag(
        2.0, "TTL of a tool-call pin before enough durations of that tool were observed.")
    tool_ttl_min_samples: int = _flag(
        100, "Observed durations a tool needs before its own distribution chooses the TTL.")

    bg_max_in_flight: int = _flag(
        2, "Background (lookahead) requests prefilling at once.")
    bg_chunk_tokens: int = _flag(
        256, "Background prefill chunk; shrinks with the foreground backlog and step time.")
    bg_deny_usage: float = _flag(
        0.85, "Deny background admission above this KV usage.")
    bg_reserve: float = _flag(
        0.10, "KV fraction background work must leave free for foreground requests.")
    bg_starvation_s: float = _flag(
        30.0, "Background work waiting longer than this competes as foreground.")
    tbt_slo_ms: float = _flag(
        0.0, "Foreground time-between-tokens target; background chunks shrink when a step "
             "exceeds it, and may run next to foreground decoding only within it (0: none).")
    bg_max_chunk_ms: float = _flag(
        1000.0, "Background chunks are sized (from the observed prefill time per token) to take "
                "at most this long: the longest a foreground arrival waits behind one (0: off).")
    promoted_max_chunk_ms: float = _flag(
        0.0, "Chunk time bound of a promoted preparation (a commit waits on it; its chunks "
             "alternate with decode steps) (0: SGLang's own chunks, as a foreground request's).")
    fg_max_chunk_ms: float = _flag(
        0.0, "While foreground requests decode, a prefill step is sized (from this server's "
             "fitted prefill cost at the prompt's context position) to take at most this long "
             "and longer prompts are chunked: the longest a decoding request waits for "
             "another's prefill. On CPU it turns on SGLang's --enable-mixed-chunk, so the "
             "decoding requests take their next token inside each such step; where SGLang "
             "cannot mix, a decode step follows each prefill step. It costs prefill "
             "throughput (0: off, SGLang's own chunks back to back; 500 halved the TBT tail "
             "on this CPU, with jobs about 5 percent longer).")
    bg_yield_to_foreground: bool = _flag(
        True, "Background prefill never shares a step with foreground prefill or decoding "
              "(unless the TBT SLO leaves room, or it waited --agentrt-bg-starvation-s).")
    program_policy: str = _flag(
        "fcfs", "Foreground order across agent programs: fcfs, continuum (pinned programs first, "
                "program FCFS) or agentsched (cache-pressure shadow price).")

    max_body_mb: float = _flag(
        16.0, "Largest HTTP request body accepted, in MiB; a larger one is refused with 413 "
              "before it is parsed.")
    max_json_depth: int = _flag(
        64, "Deepest JSON nesting accepted in a request body (deeper: 400, never parsed).")
    max_session_tokens: int = _flag(
        0, "Most tokens a session context or a prepared branch may hold (0: the model's "
           "context length); longer ones are refused with 413.")

    def __post_init__(self):
        if self.program_policy not in PROGRAM_POLICY_NAMES:
            raise ValueError(
                f"--agentrt-program-policy must be one of {sorted(PROGRAM_POLICY_NAMES)}")
        if self.bg_max_in_flight < 0 or self.bg_chunk_tokens < 64 or self.bg_max_chunk_ms < 0 \
                or self.promoted_max_chunk_ms < 0 or self.fg_max_chunk_ms < 0:
            raise ValueError("--agentrt-bg-max-in-flight, --agentrt-bg-max-chunk-ms, "
                             "--agentrt-promoted-max-chunk-ms and --agentrt-fg-max-chunk-ms "
                             "must be >= 0, "
                             "--agentrt-bg-chunk-tokens >= 64")
        if not 0 < self.bg_deny_usage <= 1 or not 0 <= self.bg_reserve < 1:
            raise ValueError("--agentrt-bg-deny-usage must be in (0, 1], --agentrt-bg-reserve "
                             "in [0, 1)")
        if not 0.0 <= self.lookahead_budget_fraction <= 1.0:
            raise ValueError("--agentrt-lookahead-budget-fraction must be in [0, 1]")
        if not 0.0 <= self.max_end_risk <= 1.0:
            raise ValueError("--agentrt-max-end-risk must be in [0, 1]")
        if self.commit_pin_ttl_s < 0 or self.tool_ttl_default_s < 0:
            raise ValueError("--agentrt-commit-pin-ttl-s and --agentrt-tool-ttl-default-s "
                             "must be >= 0")
        if self.tool_ttl_min_samples < 1:
            raise ValueError("--agentrt-tool-ttl-min-samples must be >= 1")
        if not 0.0 < self.kv_memory_fraction <= 0.9:
            raise ValueError("--agentrt-kv-memory-fraction must be in (0, 0.9]")
        if self.kv_max_tokens < 1024:
            raise ValueError("--agentrt-kv-max-tokens must be at least 1024")
        if not 0 < self.max_body_mb <= 1024 or not 2 <= self.max_json_depth <= 1000 \
                or self.max_session_tokens < 0:
            raise ValueError("--agentrt-max-body-mb must be in (0, 1024], --agentrt-max-json-depth "
                             "in [2, 1000], --agentrt-max-session-tokens >= 0")

    @property
    def resolved_cache_dir(self) -> str:
        return self.cache_dir or str(env.default_cache_dir())

    # --- CLI -----------------------------------------------------------------------------------
    @classmethod
    def add_cli_args(cls, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("agentrt")
        for f in dataclasses.fields(cls):
            name = FLAG_PREFIX + f.name.replace("_", "-")
            if f.type in (bool, "bool"):
                group.add_argument(name, dest=f"agentrt_{f.name}", default=f.default,
                                   action=argparse.BooleanOptionalAction, help=f.metadata["help"])
            else:
                kind = {"int": int, "float": float, "str": str}.get(str(f.type), f.type)
                group.add_argument(name, dest=f"agentrt_{f.name}", default=f.default, type=kind,
                                   help=f.metadata["help"] + (f" (default: {f.default!r})" if f.default != "" else ""))

    @classmethod
    def from_cli_args(cls, ns: argparse.Namespace) -> "AgentrtConfig":
        return cls(**{f.name: getattr(ns, f"agentrt_{f.name}") for f in dataclasses.fields(cls)})

    # --- transport to SGLang's processes --------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "AgentrtConfig":
        data = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def current(cls) -> Optional["AgentrtConfig"]:
        """The config the launcher exported, or None outside an agentrt server."""
        text = env.config_json()
        return cls.from_json(text) if text else None
