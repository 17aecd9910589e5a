"""The radix-tree web view: the page and the view model it draws (radix/view_model.py).

    GET  /agentrt/radix/view        the page (static/radix_view.html: one file, inline JS/CSS)
    GET  /agentrt/radix/view.json   the live tree's view model
    POST /agentrt/radix/view.json   the view model of a snapshot in the body (`agentrt radix --save`)

Query parameters of view.json (all optional):

    session=ID          only that session's context, branches and pins
    expand=1,5 / collapse=7    node ids the user opened / closed
    budget=N            how many nodes to draw at most besides tagged paths (default 400)
    match=1,20,21       token ids: tag the node where their longest cached prefix ends (live only)
    match_text=TEXT     the same for a text, tokenized by the served model (no special tokens)

Errors are JSON ``{"error": message}``: 400 for bad parameters or a malformed snapshot, 404 for an
unknown session, the control channel's status (e.g. 504) when the scheduler does not answer.
"""
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from agentrt.radix.view_model import DEFAULT_BUDGET, UnknownSessionError, ViewOptions, build_view
from agentrt.server.control_client import ControlError

PAGE = Path(__file__).parent / "static" / "radix_view.html"
MAX_MATCH_TOKENS = 1 << 20


def _ids(text: str | None, name: str) -> list[int]:
    if not text:
        return []
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"{name} must be comma-separated integers, got {text[:60]!r}") from None


def view_options(params) -> ViewOptions:
    """ViewOptions from the query string; ValueError naming the bad parameter."""
    budget = params.get("budget", str(DEFAULT_BUDGET))
    if not budget.isdigit() or int(budget) < 1:
        raise ValueError(f"budget must be a positive integer, got {budget[:20]!r}")
    return ViewOptions(session=params.get("session") or None,
                       expand=frozenset(_ids(params.get("expand"), "expand")),
                       collapse=frozenset(_ids(params.get("collapse"), "collapse")),
                       budget=int(budget))


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _view(snap: dict, opts: ViewOptions):
    try:
        return build_view(snap, opts)
    except UnknownSessionError as exc:
        return _error(str(exc), 404)
    except ValueError as exc:
        return _error(str(exc), 400)


def build_router(control, tokenizer, add_previews) -> APIRouter:
    """``tokenizer()`` gives the served tokenizer (or None); ``add_previews(snap, tokenizer)``
    decodes node previews, as GET /agentrt/radix does."""
    router = APIRouter(prefix="/agentrt/radix", tags=["agentrt"])

    @router.get("/view")
    async def radix_view_page():
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    @router.get("/view.json")
    async def live_view(request: Request):
        params = request.query_params
        try:
            opts = view_options(params)
            match = _ids(params.get("match"), "match")
            if params.get("match_text"):
                tok = tokenizer()
                if tok is None:
                    return _error("match_text needs the served tokenizer, which is not loaded", 503)
                match = list(tok.encode(params["match_text"], add_special_tokens=False))
        except ValueError as exc:
            return _error(str(exc), 400)
        if len(match) > MAX_MATCH_TOKENS:
            return _error(f"match has more than {MAX_MATCH_TOKENS} tokens", 400)
        try:
            snap = await (control.call("snapshot", match=match) if match
                          else control.call("snapshot"))
        except ControlError as exc:
            return _error(f"cannot read the radix tree from the scheduler: {exc}", exc.status)
        return _view(add_previews(snap, tokenizer()), opts)

    @router.post("/view.json")
    async def saved_view(request: Request):
        try:
            opts = view_options(request.query_params)
        except ValueError as exc:
            return _error(str(exc), 400)
        try:
            snap = await request.json()
        except ValueError as exc:  # invalid JSON
            return _error(f"not an agentrt radix snapshot: {exc}", 400)
        if request.query_params.get("match") or request.query_params.get("match_text"):
            return _error("match needs the live tree (a saved snapshot keeps only previews)", 400)
        return _view(snap, opts)

    return router
