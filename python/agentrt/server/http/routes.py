"""Extra HTTP endpoints under /agentrt/, added to SGLang's FastAPI app by the plugin.

    GET /agentrt/info     versions, config, the SGLang processes that loaded the plugin
    GET /agentrt/radix    snapshot of the lookahead radix tree (JSON; ?format=text for a tree)
    GET /agentrt/radix/integrity   check_integrity() of the live tree
    GET /agentrt/radix/view[.json] the tree's web view and its model (radix_view.py)
    POST /agentrt/tokenize         token ids with the served chat template
    GET /agentrt/scheduler         lookahead scheduler policy, counters, KV state (JSON)
    GET /agentrt/metrics           Prometheus metrics
    /agentrt/sessions...  the lookahead API (sessions.py)
"""
import asyncio
import platform

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from agentrt import SGLANG_VERSION, __version__
from agentrt.config import AgentrtConfig
from agentrt.radix.visualize import to_text
from agentrt.server.control.client import ControlClient, ControlError
from agentrt.server.editing.editor import ServerEditor
from agentrt.server.editing.local_ops import LocalOps
from agentrt.server.http import errors, fields as rf, radix_view, schemas
from agentrt.server.http.guard import BodyRules, RequestGuard, json_object
from agentrt.server.http.sessions import SessionApi, build_router
from agentrt.server.http.tokens import encode
from agentrt.server.launch import process_registry
from agentrt.server.metrics import latency


def info_payload(config: AgentrtConfig, worker: dict | None = None) -> dict:
    """``worker``: where this server listens (host, port): which worker of a cluster it is."""
    return {
        "worker": worker,
        "agentrt_version": __version__,
        "sglang_version": SGLANG_VERSION,
        "python": platform.python_version(),
        "config": AgentrtConfig.from_json(config.to_json()).__dict__,
        "plugin_processes": [r._asdict() for r in process_registry.live_records(config.state_dir)],
    }


def _tokenizer_manager():
    from sglang.srt.entrypoints.http_server import get_global_state

    return get_global_state().tokenizer_manager


def _shutting_down() -> bool:
    """SGLang's SIGTERM drain has begun: the scheduler exits with the server."""
    from sglang.srt.entrypoints.http_server import get_global_state

    state = get_global_state()      # None until SGLang's HTTP server is set up
    manager = state.tokenizer_manager if state is not None else None
    return manager is not None and manager.gracefully_exit


def add_previews(snap: dict, tokenizer) -> dict:
    for node in snap["nodes"]:
        ids = node.get("preview_ids") or []
        node["preview"] = tokenizer.decode(ids) if ids and tokenizer is not None else ""
    return snap


def install(app, config: AgentrtConfig) -> None:
    """Register agentrt's routes, error handlers and request guard on SGLang's app (called
    once, in the HTTP process)."""
    control = ControlClient(config.state_dir, closing=_shutting_down)
    sessions = SessionApi(control, _tokenizer_manager, config.max_session_tokens)
    app.include_router(_agentrt_router(config, control))
    app.include_router(radix_view.build_router(
        control, lambda: _tokenizer_manager().tokenizer, add_previews))
    app.include_router(build_router(sessions))
    errors.install(app)
    rules = BodyRules(int(config.max_body_mb * (1 << 20)), config.max_json_depth, sessions.limits)
    editor = ServerEditor(lambda: _tokenizer_manager().tokenizer, _self_url, config.state_dir,
                          ops=LocalOps(sessions), app_state=lambda: app.state)
    app.add_middleware(RequestGuard, rules=rules, control=control, editor=editor)


def _self_url() -> str:
    args = _tokenizer_manager().server_args
    return f"http://{args.host}:{args.port}"


def _agentrt_router(config: AgentrtConfig, control: ControlClient) -> APIRouter:
    router = APIRouter(prefix="/agentrt", tags=["agentrt"])
    _server_routes(router, config, control)
    _tree_routes(router, control)
    return router


def _server_routes(router: APIRouter, config: AgentrtConfig, control: ControlClient) -> None:
    """What this server is and how its scheduler is doing: info, scheduler, metrics."""

    @router.get("/info")
    async def agentrt_info():
        args = _tokenizer_manager().server_args
        return info_payload(config, {"host": args.host, "port": args.port, "url": _self_url()})

    @router.get("/scheduler")
    async def scheduler_status():
        """The lookahead scheduler's policy, counters and KV state (JSON)."""
        return await control.call("scheduler")

    @router.get("/metrics")
    async def metrics():
        """Prometheus text format: latency histograms + the scheduler's counters."""
        try:
            scheduler = await control.call("scheduler")
        except ControlError:
            scheduler = None
        return PlainTextResponse(latency.render(scheduler),
                                 media_type="text/plain; version=0.0.4")


def _tree_routes(router: APIRouter, control: ControlClient) -> None:
    """The radix tree: its snapshot, its integrity check, and the token ids a branch holds."""

    @router.get("/radix")
    async def radix_snapshot(format: str = "json"):
        snap = add_previews(await control.call("snapshot"),
                            _tokenizer_manager().tokenizer)
        return PlainTextResponse(to_text(snap)) if format == "text" else snap

    @router.post("/tokenize", openapi_extra=schemas.body(schemas.TOKENIZE))
    async def tokenize(request: Request):
        """Token ids of {messages, add_generation_prompt} or {text}, with the served model's
        tokenizer and chat template: exactly what a prepared branch must hold. Tokenized in a
        worker thread: a large body never blocks the event loop."""
        body = json_object(request)
        messages = rf.messages(body)
        gen = rf.field(body, "add_generation_prompt", bool, False)
        text = None if messages is not None else rf.field(body, "text", str)
        tokens = await asyncio.to_thread(encode, _tokenizer_manager().tokenizer, messages, text,
                                         gen)
        return {"tokens": tokens}

    @router.get("/radix/integrity")
    async def radix_integrity():
        """check_integrity() of the live tree: 200 {"ok": true}, or the error naming the
        violation (500)."""
        return await control.call("check_integrity")
