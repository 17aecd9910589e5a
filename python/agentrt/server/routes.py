"""Extra HTTP endpoints under /agentrt/, added to SGLang's FastAPI app by the plugin."""
import platform

from agentrt import SGLANG_VERSION, __version__
from agentrt.config import AgentrtConfig
from agentrt.server import process_registry


def info_payload(config: AgentrtConfig) -> dict:
    return {
        "agentrt_version": __version__,
        "sglang_version": SGLANG_VERSION,
        "python": platform.python_version(),
        "config": dict(AgentrtConfig.from_json(config.to_json()).__dict__),
        "plugin_processes": [r._asdict() for r in process_registry.live_records(config.state_dir)],
    }


def install(app, config: AgentrtConfig) -> None:
    """Register agentrt's routes on SGLang's app (called once, in the HTTP process)."""
    from fastapi import APIRouter

    router = APIRouter(prefix="/agentrt", tags=["agentrt"])

    @router.get("/info")
    async def agentrt_info():
        return info_payload(config)

    app.include_router(router)
