"""AgentrtClient's transport failures: a clear ServerUnavailable, named by the failure's kind even
where httpx gives it no message (no server: httpx's MockTransport)."""
import asyncio

import httpx
import pytest

from agentrt.lookahead.client import AgentrtClient, ServerUnavailable


def _client(error: Exception) -> AgentrtClient:
    def handle(request):
        if request.url.path == "/agentrt/info":
            return httpx.Response(200, json={})
        raise error

    client = AgentrtClient("http://worker")
    client.http = httpx.AsyncClient(base_url="http://worker",
                                    transport=httpx.MockTransport(handle))
    return client


@pytest.mark.parametrize("error, shown", [
    (httpx.ReadError(""), "ReadError"),          # a pooled connection the server closed
    (httpx.ConnectError("refused"), "ConnectError: refused")])
def test_a_transport_failure_names_its_call_and_its_kind(error, shown):
    async def go():
        client = _client(error)
        try:
            with pytest.raises(ServerUnavailable) as info:
                await client.abandon("s", "b1", "not committed")
            return str(info.value)
        finally:
            await client.close()

    message = asyncio.run(go())
    assert message.startswith("http://worker/agentrt/sessions/s/") and message.endswith(shown)
