"""Prometheus metrics of agentrt, served at GET /agentrt/metrics by the HTTP process.

Histograms measured here, per request class (fg / bg): time to first token and time between
tokens of /generate and /v1/*completions responses (from the response's body chunks). Counters
and gauges of the scheduler (background tokens prefilled, admitted / denied, promoted commits,
pinned and lookahead-held tokens) come from the scheduler process through the control channel.
"""
import time

from prometheus_client import CollectorRegistry, Histogram, generate_latest

REGISTRY = CollectorRegistry()
BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60)
TTFT = Histogram("agentrt_ttft_seconds", "Time to first token", ["cls"], buckets=BUCKETS_S,
                 registry=REGISTRY)
TBT = Histogram("agentrt_tbt_seconds", "Time between tokens (streamed chunks)", ["cls"],
                buckets=BUCKETS_S, registry=REGISTRY)


class ResponseTimer:
    """Wraps an ASGI ``send`` to time the body chunks of one response."""

    def __init__(self, send, cls: str):
        self.send, self.cls = send, cls
        self.start = time.perf_counter()
        self.last = None

    async def __call__(self, message):
        if message["type"] == "http.response.body" and message.get("body"):
            now = time.perf_counter()
            if self.last is None:
                TTFT.labels(self.cls).observe(now - self.start)
            else:
                TBT.labels(self.cls).observe(now - self.last)
            self.last = now
        await self.send(message)


SCHEDULER_METRICS = (  # (json path, metric name, type, help)
    (("stats", "bg_tokens_prefilled"), "agentrt_bg_tokens_prefilled_total", "counter",
     "Background (lookahead) tokens admitted for prefill"),
    (("stats", "lookahead_tokens_prefilled"), "agentrt_lookahead_tokens_prefilled_total",
     "counter", "Tokens prefilled for prepared branches (background, promoted and catch-up)"),
    (("stats", "bg_admitted"), "agentrt_bg_admitted_total", "counter",
     "Background requests admitted"),
    (("stats", "bg_denied"), "agentrt_bg_denied_total", "counter",
     "Background admissions denied (KV pressure, in-flight cap, reserve)"),
    (("stats", "bg_preempted"), "agentrt_bg_preempted_total", "counter",
     "Background prefills aborted to make room for a foreground request"),
    (("stats", "bg_throttled"), "agentrt_bg_throttled_total", "counter",
     "Chunks of a background prefill cut to the minimum while foreground requests decoded"),
    (("stats", "bg_paused"), "agentrt_bg_paused_total", "counter",
     "Steps that decoded foreground requests while a chunked background prefill waited"),
    (("stats", "prefills_deferred"), "agentrt_prefills_deferred_total", "counter",
     "Prefill steps put after a decode step because foreground requests were decoding"),
    (("stats", "fg_kv_blocked"), "agentrt_fg_kv_blocked_total", "counter",
     "Foreground admissions that found no KV room"),
    (("stats", "promoted_commits"), "agentrt_promoted_total", "counter",
     "Branch preparations promoted because a commit waited on them"),
    (("stats", "busy_s"), "agentrt_busy_seconds_total", "counter",
     "Time the scheduler spent in model steps (wall time minus this: idle)"),
    (("stats", "lookahead_busy_s"), "agentrt_lookahead_busy_seconds_total", "counter",
     "The part of it that prefilled prepared branches (prefill steps split by tokens)"),
    (("stats", "stalls"), "agentrt_decode_stalls_total", "counter",
     "Prefill steps that ran while other requests were decoding (they waited the whole step)"),
    (("stats", "stalled_s"), "agentrt_decode_stalled_seconds_total", "counter",
     "Their total time (the longest are listed in /agentrt/scheduler stats.longest_stalls)"),
    (("pinned_tokens",), "agentrt_pinned_tokens", "gauge", "Tokens held by TTL / commit pins"),
    (("held_by_lookahead",), "agentrt_lookahead_held_tokens", "gauge",
     "Tokens only prepared branches hold (beyond the sessions' own contexts and pins)"),
    (("stats", "last_step_ms"), "agentrt_last_step_ms", "gauge", "Last scheduler step time"),
)


LEDGER_METRICS = (  # (ledger key, metric name, label, help): radix/ledger.py's work ledger
    ("prefilled", "agentrt_prefill_tokens_total", "purpose",
     "Tokens the scheduler prefilled, by purpose (fg_new, fg_recompute, fg_rewrite, prepare, "
     "catch_up)"),
    ("wasted", "agentrt_wasted_tokens_total", "reason",
     "Background tokens wasted (prefilled for a branch that was never committed), by reason"),
)


def render(scheduler: dict | None) -> str:
    lines = []
    for path, name, kind, help_text in SCHEDULER_METRICS if scheduler else ():
        value = scheduler
        for key in path:
            value = value[key]
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value}"]
    ledger = (scheduler or {}).get("ledger")
    for key, name, label, help_text in LEDGER_METRICS if ledger else ():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
        lines += [f'{name}{{{label}="{k}"}} {v}' for k, v in ledger[key].items()]
    return generate_latest(REGISTRY).decode() + "\n".join(lines) + "\n"
