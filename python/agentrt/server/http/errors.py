"""How agentrt's routes answer errors: one JSON shape, one handler per exception class.

Routes raise; they never build error responses themselves:
  - ``FieldError`` (fields.py): 400, or 413 for ``TooLarge``; nothing was applied;
  - ``ControlError`` (control/client.py): the status the scheduler's tree answered with (404
    unknown session or branch, 409 stale, 413 over budget, 504 no answer, ...).
Every error body is ``{"error": message, "object": "error", "code": status}``.
"""
import json

from fastapi.responses import JSONResponse

from agentrt.server.control.client import ControlError
from agentrt.server.http.fields import FieldError


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


async def _field_error(_request, exc: FieldError) -> JSONResponse:
    return response(exc.status, str(exc))


async def _control_error(_request, exc: ControlError) -> JSONResponse:
    return response(exc.status, str(exc))


def install(app) -> None:
    app.add_exception_handler(FieldError, _field_error)
    app.add_exception_handler(ControlError, _control_error)
