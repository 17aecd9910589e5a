"""flush_cache retries while the server refuses the flush as busy (400), and only then."""
import pytest

from agentrt.client import flush


class Answer:
    def __init__(self, status_code: int, text: str = ""):
        self.status_code, self.text = status_code, text


def serve(monkeypatch, codes: list[int]) -> list[str]:
    calls = []

    def post(url, timeout):
        calls.append(url)
        return Answer(codes[min(len(calls), len(codes)) - 1], "pending requests")
    monkeypatch.setattr(flush.requests, "post", post)
    return calls


def test_retries_until_the_server_is_idle(monkeypatch):
    calls = serve(monkeypatch, [400, 400, 200])
    flush.flush_cache("http://h", poll_s=0)
    assert calls == ["http://h/flush_cache"] * 3


def test_gives_up_at_the_deadline(monkeypatch):
    calls = serve(monkeypatch, [400])
    with pytest.raises(flush.ServerNeverIdle, match="400"):
        flush.flush_cache("http://h", timeout_s=0.05, poll_s=0.01)
    assert len(calls) >= 2


def test_another_error_is_not_retried(monkeypatch):
    calls = serve(monkeypatch, [500, 200])
    with pytest.raises(flush.ServerNeverIdle, match="500"):
        flush.flush_cache("http://h", poll_s=0)
    assert len(calls) == 1
