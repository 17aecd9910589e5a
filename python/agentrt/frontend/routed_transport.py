"""The HTTP of a frontend program behind SGLang's router (smg): routing key on, home worker out.

SGLang's ``RuntimeEndpoint`` sends every request through ``sglang.utils.http_request`` (bound
into ``sglang.lang.backend.runtime_endpoint``), which takes no headers, so a program's model calls
could not carry ``X-SMG-Routing-Key``. ``install()`` swaps that one binding for
``routed_http_request``; ``AgentrtBackend`` runs each call of a program inside ``routing(route)``.

Rules:
  - outside a ``routing`` scope the request goes to SGLang's own ``http_request``, unchanged:
    other ``RuntimeEndpoint``s in the process, and an agentrt backend on one server without a
    router (which never opens a scope), behave exactly as before;
  - a scope belongs to the thread that opened it (each StreamExecutor sends from its own
    thread); scopes nest, the inner one wins and the outer one is restored;
  - inside a scope the request is sent here with ``requests`` and ``X-SMG-Routing-Key =
    route.key``; every response's ``x-smg-routed-worker-id`` is recorded as ``route.worker``
    and handed to ``route.on_response`` (the backend learns the session's home from it);
  - smg's ``/generate`` takes one ``text`` per request (a list is a 422): a body whose ``text``
    is a list (select's choices) is sent as one request per text, same key, in order, and the
    answers joined into one list; the first refused one is returned as it came;
  - what is returned has what RuntimeEndpoint reads: ``status_code``, ``json()``, ``text``,
    ``iter_lines()`` (a ``requests.Response``, or ``JoinedResponse`` for a split batch).
"""
import json as jsonlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Optional

import requests
from sglang.lang.backend import runtime_endpoint

from agentrt.cluster.routing import routed_worker, routing_headers

_sglang_http_request = runtime_endpoint.http_request
_local = threading.local()


@dataclass
class Route:
    """Where the requests of one call go: the routing key, and what the router answered."""
    key: str
    timeout_s: float = 600.0
    on_response: Optional[Callable[[Any], None]] = None   # called with each response's headers
    worker: Optional[str] = None                           # the last worker that answered
    workers: list[str] = field(default_factory=list)       # every answering worker, in order


@contextmanager
def routing(route: Optional[Route]):
    """Send this thread's RuntimeEndpoint requests with ``route``'s key until the block ends
    (``None``: no scope, SGLang's own sending)."""
    if route is None:
        yield None
        return
    outer = getattr(_local, "route", None)
    _local.route = route
    try:
        yield route
    finally:
        _local.route = outer


def each_step_routed(route: Route, steps: Iterator) -> Iterator:
    """``steps`` (a lazy stream of RuntimeEndpoint's) advanced one step at a time inside the
    scope, never across a yield: the consumer runs between steps on the same thread."""
    while True:
        with routing(route):
            try:
                item = next(steps)
            except StopIteration:
                return
        yield item


def install() -> None:
    """Route RuntimeEndpoint's requests through ``routed_http_request`` (idempotent)."""
    runtime_endpoint.http_request = routed_http_request


def routed_http_request(url, json=None, stream=False, api_key=None, verify=None, method=None):
    """Same parameters as SGLang's ``http_request``; with the key when a scope is open."""
    route = getattr(_local, "route", None)
    if route is None:
        return _sglang_http_request(url, json=json, stream=stream, api_key=api_key,
                                    verify=verify, method=method)
    headers = routing_headers(route.key)
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key}"
    texts = json.get("text") if isinstance(json, dict) else None
    if isinstance(texts, list) and not stream:
        return _send_each(route, url, json, texts, headers, verify, method)
    return _send(route, url, json, stream, headers, verify, method)


def _send(route: Route, url, body, stream, headers, verify, method) -> requests.Response:
    resp = requests.request(method or ("POST" if body is not None else "GET"), url, json=body,
                            stream=stream, headers=headers, timeout=route.timeout_s,
                            verify=verify if verify else True)
    worker = routed_worker(resp.headers)
    if worker is not None:
        route.worker = worker
        route.workers.append(worker)
    if route.on_response is not None:
        route.on_response(resp.headers)
    return resp


def _send_each(route: Route, url, body, texts, headers, verify, method):
    """A batch of texts as one request per text (smg's /generate refuses a list)."""
    answers = []
    for text in texts:
        resp = _send(route, url, dict(body, text=text), False, headers, verify, method)
        if resp.status_code != 200:
            return resp
        answers.append(resp.json())
    return JoinedResponse(answers, resp.headers if texts else {})


class JoinedResponse:
    """The answers of a split batch, read like one response with a JSON list body."""

    def __init__(self, answers: list, headers):
        self.answers, self.headers, self.status_code = answers, headers, 200

    def json(self) -> list:
        return self.answers

    @property
    def text(self) -> str:
        return jsonlib.dumps(self.answers)
