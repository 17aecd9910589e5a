"""One real agentrt server on a tiny random-weight model, shared by the whole test session."""
from pathlib import Path

import pytest

from agentrt.client.managed_server import ManagedServer
from agentrt.testing.tiny_model import build_tiny_model

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    return build_tiny_model()


@pytest.fixture(scope="session")
def server(tiny_model, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "server.log"
    srv = ManagedServer(["--model-path", str(tiny_model), "--max-total-tokens", "32768",
                         "--enable-metrics"], log_path=log)
    srv.start()
    yield srv
    srv.stop()
    assert srv.proc is None


@pytest.fixture(scope="session")
def url(server) -> str:
    return server.url


@pytest.fixture(scope="session")
def hf_model(tiny_model):
    """The tiny model in HF transformers: the full-prefill reference for parity tests."""
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
