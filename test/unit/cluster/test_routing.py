"""cluster/routing.py: routing keys, the routed worker header, the session -> home book."""
import pytest

from agentrt.cluster.routing import HomeBook, Move, routed_worker, routing_headers


def test_a_session_id_is_its_routing_key_up_to_128_bytes():
    assert routing_headers("agent-7") == {"X-SMG-Routing-Key": "agent-7"}
    assert routing_headers("k" * 128)["X-SMG-Routing-Key"] == "k" * 128
    for bad in ("", "k" * 129, "é" * 65):
        with pytest.raises(ValueError):
            routing_headers(bad)


def test_the_routed_worker_header_is_read_case_insensitively_without_a_trailing_slash():
    assert routed_worker({"X-SMG-Routed-Worker-Id": "http://w:1/"}) == "http://w:1"
    assert routed_worker({"content-type": "application/json"}) is None


def test_the_home_book_reports_a_move_only_when_the_home_changes():
    book = HomeBook()
    assert book.observe("a", "http://w1") is None          # first placement is no move
    assert book.observe("a", None) is None                 # no router: nothing learned
    assert book.observe("a", "http://w1") is None
    assert book.observe("b", "http://w1") is None
    assert book.sessions_on("http://w1") == ["a", "b"]
    assert book.observe("a", "http://w2") == Move("a", "http://w1", "http://w2")
    assert book.home("a") == "http://w2" and book.sessions_on("http://w1") == ["b"]
    book.forget("a")
    assert book.home("a") is None
