"""The view routes on a real FastAPI app, with a stand-in control channel (no SGLang process)."""
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agentrt.server.http import errors
from agentrt.server.control.client import ControlError
from agentrt.server.http.guard import BodyRules, RequestGuard
from agentrt.server.http.radix_view import build_router
from agentrt.server.http.routes import add_previews
from agentrt.testing.synthetic_snapshot import synthetic_snapshot


class FakeTokenizer:
    def encode(self, text, add_special_tokens=False):
        return [len(word) for word in text.split()]

    def decode(self, ids):
        return "t" + "-".join(map(str, ids[:3]))


class FakeControl:
    def __init__(self, snap=None, error=None):
        self.snap, self.error, self.calls = snap, error, []

    async def call(self, op, **args):
        self.calls.append((op, args))
        if self.error:
            raise self.error
        return dict(self.snap, **({"match": {"requested": len(args["match"]), "node": 3,
                                             "matched_tokens": 2, "partial": False}}
                                  if "match" in args else {}))


def client(control, tokenizer=None):
    tokenizer = tokenizer or FakeTokenizer()
    app = FastAPI()
    app.include_router(build_router(control, lambda: tokenizer, add_previews))
    errors.install(app)
    app.add_middleware(RequestGuard, rules=BodyRules(1 << 20, 64))
    return TestClient(app)


def test_page_is_self_contained_html():
    resp = client(FakeControl()).get("/agentrt/radix/view")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert "window.agentrtView" in resp.text and "view.json" in resp.text
    assert "http://" not in resp.text and "https://" not in resp.text   # no CDN


def test_live_view_model_with_previews_filter_and_match():
    control = FakeControl(synthetic_snapshot(50))
    c = client(control)
    body = c.get("/agentrt/radix/view.json?session=synthetic&budget=5").json()
    assert body["session"] == "synthetic" and body["total_nodes"] == 50
    assert body["nodes"][1]["label"].startswith("t")     # decoded by the served tokenizer
    assert control.calls == [("snapshot", {})]
    c.get("/agentrt/radix/view.json?match=1,2,3")
    c.get("/agentrt/radix/view.json?match_text=ab%20cde")
    assert control.calls[1:] == [("snapshot", {"match": [1, 2, 3]}),
                                 ("snapshot", {"match": [2, 3]})]
    matched = c.get("/agentrt/radix/view.json?match=1,2").json()
    assert [n["id"] for n in matched["nodes"] if any(t["kind"] == "match" for t in n["tags"])] \
        == [3]


@pytest.mark.parametrize("query, status, words", [
    ("budget=0", 400, "budget must be an integer in [1, 1000000]"),
    ("match=99999999999999999999999", 400, "outside [0, 2^63)"),
    ("match=-1", 400, "token id -1"),
    ("expand=1,x", 400, "expand must be comma-separated integers"),
    ("match=a", 400, "match must be comma-separated integers"),
    ("session=nope", 404, "unknown session 'nope'"),
])
def test_bad_parameters_get_a_message(query, status, words):
    resp = client(FakeControl(synthetic_snapshot(10))).get("/agentrt/radix/view.json?" + query)
    assert resp.status_code == status and words in resp.json()["error"]


def test_control_channel_failure_is_a_readable_error():
    control = FakeControl(error=ControlError("the scheduler did not answer 'snapshot' in 30 s",
                                             504))
    resp = client(control).get("/agentrt/radix/view.json")
    assert resp.status_code == 504
    assert resp.json()["error"] == ("cannot read the radix tree from the scheduler: the "
                                    "scheduler did not answer 'snapshot' in 30 s")


def test_match_text_without_a_loaded_tokenizer_is_503():
    app = FastAPI()
    app.include_router(build_router(FakeControl(synthetic_snapshot(10)), lambda: None,
                                    add_previews))
    errors.install(app)
    resp = TestClient(app).get("/agentrt/radix/view.json?match_text=ab")
    assert resp.status_code == 503
    assert resp.json() == {"error": "match_text needs the served tokenizer, which is not loaded",
                           "object": "error", "code": 503}


def test_saved_snapshot_is_viewed_and_bad_ones_refused():
    c = client(FakeControl())
    snap = synthetic_snapshot(30)
    body = c.post("/agentrt/radix/view.json?expand=0", json=snap).json()
    assert body["total_nodes"] == 30 and body["nodes"][0]["expanded"] is True
    bad = c.post("/agentrt/radix/view.json", json={"x": 1})
    assert bad.status_code == 400 and "not an agentrt radix snapshot" in bad.json()["error"]
    garbage = c.post("/agentrt/radix/view.json", content=b"{nope")
    assert garbage.status_code == 400 and "not valid JSON" in garbage.json()["error"]
    for malformed in ([1], {"nodes": 5}, {"nodes": [{"id": "x"}]}, {"nodes": [5]},
                      {"nodes": [{"id": 0, "parent": None, "tokens": "x"}]},
                      dict(snap, branches=5), dict(snap, pins="x"),
                      dict(snap, nodes=snap["nodes"] + [{"id": 99, "parent": 12345, "tokens": 3}])):
        resp = c.post("/agentrt/radix/view.json", json=malformed)
        assert resp.status_code == 400, (malformed, resp.text)
    match = c.post("/agentrt/radix/view.json?match=1", json=snap)
    assert match.status_code == 400 and "needs the live tree" in match.json()["error"]
