"""How agentrt's routes answer errors: one JSON shape, one handler per exception class.

Routes raise; they never build error responses themselves (``STATUS`` maps each class):
  - ``FieldError`` (fields.py): 400, or 413 for ``TooLarge``; nothing was applied;
  - ``ControlError`` (control/client.py): the status the scheduler's tree answered with (404
    unknown session or branch, 409 stale, 413 over budget, 504 no answer, ...);
  - ``UnknownSessionError`` (view_model.py): 404, the view's session filter names no session;
  - ``Unavailable``: 503, what the route needs is not loaded in this server.
Every error body is ``{"error": message, "object": "error", "code": status}``. The request guard
answers before any route runs, outside these handlers: it sends the same body (``send_error``).
"""
import json

from fastapi.responses import JSONResponse

from agentrt.server.control.client import ControlError
from agentrt.server.http.fields import FieldError
from agentrt.server.http.view_model import UnknownSessionError


class Unavailable(Exception):
    """What a route needs (e.g. the served tokenizer) is not loaded in this server (HTTP 503)."""
    status = 503


def payload(status: int, message: str) -> dict:
    return {"error": message, "object": "error", "code": status}


def response(status: int, message: str) -> JSONResponse:
    return JSONResponse(payload(status, message), status_code=status)


async def send_error(send, status: int, message: str) -> None:
    """The same error from raw ASGI (the request guard answers before any route runs)."""
    data = json.dumps(payload(status, message)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


STATUS = {  # exception class -> HTTP status; None: the exception's own ``status``
    FieldError: None,
    ControlError: None,
    Unavailable: None,
    UnknownSessionError: 404,
}


def _handler(status: int | None):
    async def handle(_request, exc: Exception) -> JSONResponse:
        return response(exc.status if status is None else status, str(exc))
    return handle


def install(app) -> None:
    """One FastAPI exception handler per class of ``STATUS`` on ``app``."""
    for cls, status in STATUS.items():
        app.add_exception_handler(cls, _handler(status))
