"""The work ledger on SGLang's own ``/metrics`` (``--enable-metrics``): one scrape target.

SGLang runs prometheus_client in multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by its
launcher when metrics are on): counters made in the scheduler process are written to that folder
and served by the HTTP process's ``/metrics`` with SGLang's own. Names follow SGLang's
``namespace:name`` style:

    agentrt:prefill_tokens_total{purpose}   every prefilled token, by purpose (radix/ledger.py)
    agentrt:wasted_tokens_total{reason}     background tokens wasted, by reason
"""


def export_ledger(ledger) -> None:
    """Mirror ``ledger``'s counts into Prometheus counters from now on (scheduler process)."""
    from prometheus_client import Counter

    counters = {
        "prefilled": Counter("agentrt:prefill_tokens", "Tokens the scheduler prefilled, by "
                             "purpose", ["purpose"]),
        "wasted": Counter("agentrt:wasted_tokens", "Background tokens wasted (prefilled for a "
                          "branch never committed), by reason", ["reason"]),
    }

    def mirror(kind: str, label: str, tokens: int) -> None:
        counters[kind].labels(label).inc(tokens)

    ledger.listeners.append(mirror)
