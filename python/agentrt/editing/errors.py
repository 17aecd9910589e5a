"""Errors of context editing: a bad ``context_management`` (400, nothing applied), a summary the
pure core needs before it can finish, and a runtime failure (the caller serves the request
unedited and says so)."""
from typing import NamedTuple

from agentrt.lookahead.strategy import Message


class EditValidationError(ValueError):
    """``context_management`` is malformed. ``status`` is the HTTP status (400); ``field`` is the
    dotted path of the offending value, e.g. ``context_management.edits[0].keep.value``; the
    message starts with it. Raised before any edit is applied."""

    status = 400

    def __init__(self, field: str, problem: str):
        self.field, self.problem = field, problem
        super().__init__(f"{field} {problem}")


class SummaryRequest(NamedTuple):
    """What a ``summarize`` edit needs summarized. ``key`` identifies the exact covered messages
    (the same key always names the same text); ``messages`` are in the request's own format;
    ``prompt`` is the summarization instruction (the client-side strategy's prompt)."""
    key: str
    messages: list[Message]
    prompt: str
    max_tokens: int


class SummaryNeeded(Exception):
    """The pure core reached a ``summarize`` trigger whose summary it was not given. The async
    driver produces ``request`` (a background request), then runs the core again with it."""

    def __init__(self, request: SummaryRequest):
        self.request = request
        super().__init__(f"summary {request.key[:12]} needed")


class EditFailed(RuntimeError):
    """An edit could not be computed at run time (the summary request failed, no offload store
    configured). Never a client error: the caller serves the request unedited and reports it."""
