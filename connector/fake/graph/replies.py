"""What a fake Graph operation answers: a status, a JSON body and headers; errors in Graph's shape."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: The messages Graph sends for the errors relsync handles (graph_api.md).
INVALID_TOKEN_MESSAGE = "Access token has expired or is not yet valid."
ACCESS_DENIED_MESSAGE = (
    "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings."
)
ITEM_NOT_FOUND_MESSAGE = "The specified object was not found in the store."


@dataclass
class Reply:
    """One HTTP answer. ``body`` is JSON-able (None: no body); ``drop`` closes the connection unanswered."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


def error_body(code: str, message: str) -> dict[str, Any]:
    """Graph's error envelope with its ``innerError`` (request id and date)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    rid = str(uuid.uuid4())
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"request-id": rid, "client-request-id": rid, "date": now},
        }
    }


class GraphError(Exception):
    """Raised by an operation to answer with a Graph error."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def reply(self) -> Reply:
        return Reply(self.status, error_body(self.code, self.message), self.headers)


def bad_request(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def not_found(message: str = ITEM_NOT_FOUND_MESSAGE) -> GraphError:
    return GraphError(404, "ErrorItemNotFound", message)
