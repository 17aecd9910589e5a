"""Empty a server's radix tree, waiting for the server to go idle first.

SGLang's ``/flush_cache`` answers 400 while any request is queued or running (a background
preparation, a catch-up left behind by the previous run, an aborted stream still finishing), so
one POST is not enough between benchmark runs or tests: this retries until the flush is taken.
"""
import time

import requests


class ServerNeverIdle(RuntimeError):
    """The server kept refusing the flush (still busy) for the whole deadline."""


def flush_cache(url: str, timeout_s: float = 120.0, poll_s: float = 0.5) -> None:
    """Flush ``url``'s cache; raises :class:`ServerNeverIdle` if it is not taken in time."""
    deadline = time.monotonic() + timeout_s
    while True:
        resp = requests.post(f"{url}/flush_cache", timeout=60)
        if resp.status_code == 200:
            return
        if resp.status_code != 400 or time.monotonic() >= deadline:
            raise ServerNeverIdle(f"{url}/flush_cache: {resp.status_code} {resp.text[:200]}")
        time.sleep(poll_s)
