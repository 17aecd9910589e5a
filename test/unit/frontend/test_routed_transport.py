"""routed_transport: SGLang's RuntimeEndpoint requests behind the router (no server: requests'
sending is replaced by a recorder)."""
import threading

import pytest
from sglang.lang.backend import runtime_endpoint
from sglang.lang.backend.runtime_endpoint import RuntimeEndpoint

from agentrt.frontend import routed_transport
from agentrt.frontend.routed_transport import JoinedResponse, Route, each_step_routed, routing

WORKER = "http://127.0.0.1:7001"


class FakeResponse:
    def __init__(self, body, status=200, worker=WORKER):
        self.body, self.status_code = body, status
        self.headers = {"x-smg-routed-worker-id": worker + "/"} if worker else {}

    def json(self):
        return self.body


@pytest.fixture
def sent(monkeypatch):
    """Every request the transport sends: (method, url, json, headers); answers echo the text."""
    calls = []

    def fake_request(method, url, json=None, stream=False, headers=None, timeout=None,
                     verify=True):
        calls.append((method, url, json, dict(headers)))
        text = (json or {}).get("text")
        return FakeResponse({"text": f"<{text}>"}, 422 if text == "bad" else 200)

    monkeypatch.setattr(routed_transport.requests, "request", fake_request)
    monkeypatch.setattr(runtime_endpoint, "http_request", runtime_endpoint.http_request)
    routed_transport.install()
    return calls


def endpoint() -> RuntimeEndpoint:
    """A RuntimeEndpoint without its constructor's network call."""
    ep = RuntimeEndpoint.__new__(RuntimeEndpoint)
    ep.base_url, ep.api_key, ep.verify = "http://router", None, None
    return ep


class Executor:
    images_ = []


def test_outside_a_scope_sglang_sends_the_request_unchanged(sent, monkeypatch):
    seen = []
    monkeypatch.setattr(routed_transport, "_sglang_http_request",
                        lambda url, **kw: seen.append((url, kw)) or FakeResponse({"text": "x"}))
    assert endpoint()._generate_http_request(Executor(), {"text": "hi"}) == {"text": "x"}
    assert sent == [] and seen == [("http://router/generate", {
        "json": {"text": "hi"}, "stream": False, "api_key": None, "verify": None,
        "method": None})]


def test_a_scope_sends_the_key_and_records_the_worker(sent):
    heard = []
    route = Route("session-1", on_response=heard.append)
    with routing(route):
        out = endpoint()._generate_http_request(Executor(), {"text": "hi"})
    assert out == {"text": "<hi>"}
    assert sent == [("POST", "http://router/generate", {"text": "hi"},
                     {"X-SMG-Routing-Key": "session-1"})]
    assert route.worker == WORKER and route.workers == [WORKER]
    assert heard == [{"x-smg-routed-worker-id": WORKER + "/"}]


def test_a_batch_of_texts_goes_as_one_request_each_joined_in_order(sent):
    route = Route("s")
    body = {"text": ["a", "b", "c"], "return_logprob": True, "session_id": "s/batch-1"}
    with routing(route):
        out = endpoint()._generate_http_request(Executor(), body)
    assert out == [{"text": "<a>"}, {"text": "<b>"}, {"text": "<c>"}]
    assert [c[2] for c in sent] == [dict(body, text=t) for t in "abc"]
    assert all(c[3] == {"X-SMG-Routing-Key": "s"} for c in sent)
    assert route.workers == [WORKER] * 3


def test_a_refused_item_of_a_batch_is_returned_as_it_came(sent):
    with routing(Route("s")):
        with pytest.raises(RuntimeError, match="<bad>"):
            endpoint()._generate_http_request(Executor(), {"text": ["a", "bad", "c"]})
    assert [c[2]["text"] for c in sent] == ["a", "bad"]     # nothing sent after the refusal


def test_scopes_nest_and_belong_to_their_thread(sent):
    other = []
    with routing(Route("outer")):
        with routing(Route("inner")):
            endpoint()._generate_http_request(Executor(), {"text": "1"})
        endpoint()._generate_http_request(Executor(), {"text": "2"})
        thread = threading.Thread(target=lambda: other.append(
            getattr(routed_transport._local, "route", None)))
        thread.start()
        thread.join()
    assert [c[3]["X-SMG-Routing-Key"] for c in sent] == ["inner", "outer"]
    assert other == [None]
    assert getattr(routed_transport._local, "route", None) is None


def test_a_stream_is_read_inside_the_scope_but_never_across_a_yield(sent):
    route = Route("s")
    seen_inside = []

    def stream():
        for i in range(3):
            seen_inside.append(routed_transport._local.route is route)
            yield i

    consumer_saw = [getattr(routed_transport._local, "route", None)
                    for _ in each_step_routed(route, stream())]
    assert seen_inside == [True, True, True] and consumer_saw == [None, None, None]


def test_no_scope_means_none_and_the_joined_response_reads_like_one():
    with routing(None) as route:
        assert route is None and getattr(routed_transport._local, "route", None) is None
    joined = JoinedResponse([{"a": 1}], {})
    assert joined.status_code == 200 and joined.json() == [{"a": 1}] and joined.text == '[{"a": 1}]'


def test_a_key_over_128_bytes_is_refused_before_sending(sent):
    with routing(Route("k" * 129)):
        with pytest.raises(ValueError, match="routing key"):
            endpoint()._generate_http_request(Executor(), {"text": "hi"})
    assert sent == []
