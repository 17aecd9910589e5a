"""The radix-tree web view: the page and the view model it draws (view_model.py).

    GET  /agentrt/radix/view        the page (static/radix_view.html: one file, inline JS/CSS)
    GET  /agentrt/radix/view.json   the live tree's view model
    POST /agentrt/radix/view.json   the view model of a snapshot in the body (`agentrt radix --save`)

Query parameters of view.json (all optional):

    session=ID          only that session's context, branches and pins
    expand=1,5 / collapse=7    node ids the user opened / closed
    budget=N            how many nodes to draw at most besides tagged paths (default 400)
    match=1,20,21       token ids: tag the node where their longest cached prefix ends (live only)
    match_text=TEXT     the same for a text, tokenized by the served model (no special tokens)

Errors are JSON ``{"error": message}`` (errors.py): 400 for bad parameters or a malformed
snapshot, 404 for an unknown session, 503 for ``match_text`` without a loaded tokenizer, the
control channel's status (e.g. 504) when the scheduler does not answer.
"""
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from agentrt.server.control.client import ControlError
from agentrt.server.http import schemas
from agentrt.server.http.errors import Unavailable
from agentrt.server.http.fields import FieldError
from agentrt.server.http.guard import json_object
from agentrt.server.http.view_model import DEFAULT_BUDGET, ViewOptions, build_view

PAGE = Path(__file__).parent / "static" / "radix_view.html"
MAX_IDS = 1 << 20
MALFORMED = (ValueError, TypeError, KeyError, AttributeError, IndexError)


def _ids(text: str | None, name: str) -> list[int]:
    if not text:
        return []
    if text.count(",") >= MAX_IDS:
        raise FieldError(f"{name} lists more than {MAX_IDS} ids")
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise FieldError(f"{name} must be comma-separated integers, got {text[:60]!r}") from None


def check_match(ids: list[int]) -> None:
    """A match is a read-only lookup: ids beyond the vocabulary simply match nothing, but each
    must fit the tree's int64 token array."""
    if len(ids) > MAX_IDS:
        raise FieldError(f"match has more than {MAX_IDS} tokens")
    bad = next((t for t in ids if not 0 <= t < 1 << 63), None)
    if bad is not None:
        raise FieldError(f"match holds token id {bad}, outside [0, 2^63)")


def view_options(params) -> ViewOptions:
    """ViewOptions from the query string; FieldError naming the bad parameter."""
    budget = params.get("budget", str(DEFAULT_BUDGET))
    if not budget.isdigit() or not 1 <= int(budget) <= 1_000_000:
        raise FieldError(f"budget must be an integer in [1, 1000000], got {budget[:20]!r}")
    return ViewOptions(session=params.get("session") or None,
                       expand=frozenset(_ids(params.get("expand"), "expand")),
                       collapse=frozenset(_ids(params.get("collapse"), "collapse")),
                       budget=int(budget))


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
        opts = view_options(params)
        match = _ids(params.get("match"), "match")
        if params.get("match_text"):
            tok = tokenizer()
            if tok is None:
                raise Unavailable("match_text needs the served tokenizer, which is not loaded")
            match = list(tok.encode(params["match_text"], add_special_tokens=False))
        check_match(match)
        try:
            snap = await (control.call("snapshot", match=match) if match
                          else control.call("snapshot"))
        except ControlError as exc:
            raise ControlError(f"cannot read the radix tree from the scheduler: {exc}",
                               exc.status) from None
        try:
            return build_view(add_previews(snap, tokenizer()), opts)
        except ValueError as exc:  # options that do not fit the tree
            raise FieldError(str(exc)) from None

    @router.post("/view.json", openapi_extra=schemas.body(schemas.SNAPSHOT))
    async def saved_view(request: Request):
        """A saved snapshot is untrusted data: anything build_view cannot read in it is a
        malformed snapshot (400), never a server error."""
        opts = view_options(request.query_params)
        if request.query_params.get("match") or request.query_params.get("match_text"):
            raise FieldError("match needs the live tree (a saved snapshot keeps only previews)")
        try:
            return build_view(json_object(request), opts)
        except MALFORMED as exc:
            raise FieldError(f"not an agentrt radix snapshot: {type(exc).__name__}: "
                             f"{str(exc)[:200]}") from None

    return router
