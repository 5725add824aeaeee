"""The task pane's JSON API under ``/addin/api/`` (see README, "Outlook add-in").

Every call carries ``Authorization: Bearer <token>`` (:mod:`scheduler.web.addin.tokens`) and answers only
for that staff mailbox; any problem with the token is a bare 401 (the reason goes to the log). No
cookies are read, so there is no CSRF to guard against. Reads and actions go through store services
(:mod:`mapping.store.addin`, :mod:`mapping.store.addin_actions`).

- ``POST /addin/api/card`` ``{"item_type": "message"|"appointment", "addresses": [...]}``: the cards.
- ``POST /addin/api/followups/{id}/done`` ``{"note": "..."}``: the caller's open follow-up is done.
- ``POST /addin/api/relationships/{id}/override`` ``{"dimension": "type"|"tier"|"owner", "value": "..."}``
  and ``DELETE /addin/api/relationships/{id}/override/{dimension}``: a staff override and its removal.
- ``POST /addin/api/duplicates/{id}/not-the-same``: a flagged pair is two different records.
- ``GET /addin/api/me``: who the token stands for.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mapping.addin import HOW_TO_BECOME_KNOWN, MAX_ITEM_ADDRESSES, triage
from mapping.store.addin import PaneAnswer, pane_cards
from mapping.store.addin_actions import (
    AddinActionError,
    complete_follow_up,
    not_the_same,
    remove_override,
    set_override,
)
from mapping.store.errors import store_failure
from mapping.store.models import RelationshipType
from scheduler.web.addin.tokens import AddinTokens, Caller, TokenRefused

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1_000_000
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def answer(data: Any, status: int = 200) -> Response:
    body = json.dumps(
        dataclasses.asdict(data) if dataclasses.is_dataclass(data) and not isinstance(data, type) else data,
        default=_plain,
        separators=(",", ":"),
    )
    return Response(body, status_code=status, media_type="application/json", headers=HEADERS)


def problem(status: int, message: str) -> Response:
    extra = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else {}
    return JSONResponse({"error": message}, status_code=status, headers={**HEADERS, **extra})


Handler = Callable[[Request, Caller, dict[str, Any]], Awaitable[Response]]


def api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The token, the JSON body and the errors of every API call."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        tokens: AddinTokens = request.app.state.addin_tokens
        try:
            caller = await run_in_threadpool(tokens.caller, request.headers.get("authorization"))
        except TokenRefused as exc:
            log.info("add-in API: 401 on %s: %s", request.url.path, exc)
            return problem(401, "Not signed in to relsync.")
        except Exception as exc:
            if store_failure(exc) is None:
                raise
            return problem(503, "The relationship store cannot be reached right now: try again in a minute.")
        body: dict[str, Any] = {}
        if request.method == "POST":
            raw = await request.body()
            if len(raw) > MAX_BODY_BYTES:
                return problem(413, f"The request is larger than {MAX_BODY_BYTES} bytes.")
            try:
                parsed = json.loads(raw or b"{}")
            except ValueError:
                return problem(400, "The request body is not JSON.")
            if not isinstance(parsed, dict):
                return problem(400, "The request body must be a JSON object.")
            body = parsed
        try:
            return await handler(request, caller, body)
        except AddinActionError as exc:
            return problem(409, f"{str(exc)[0].upper()}{str(exc)[1:]}. Nothing was changed.")
        except Exception as exc:
            if store_failure(exc) is None:
                log.exception("add-in API: unexpected error on %s", request.url.path)
                return problem(500, "Something went wrong on our side; it has been logged for the administrator.")
            return problem(503, "The relationship store cannot be reached right now: try again in a minute.")

    return endpoint


def _id(request: Request, name: str) -> int | None:
    raw = str(request.path_params.get(name, ""))
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def card_json(found: PaneAnswer) -> dict[str, Any]:
    """The card answer as the pane reads it (a promise: README, "Outlook add-in")."""
    t = found.triage
    data = dataclasses.asdict(found)
    data["triage"] = {
        "looked_up": len(t.external),
        "internal": t.internal,
        "invalid": t.invalid,
        "more": t.more,
        "cut": t.cut,
    }
    for plain, card in zip(data["cards"], found.cards, strict=True):
        plain["next_offer"] = [{**dataclasses.asdict(s), "line": s.line()} for s in card.next_offer]
    data["empty"] = t.empty_reason if not found.cards and not found.unknown else None
    data["unknown_hint"] = HOW_TO_BECOME_KNOWN if found.unknown else None
    return data


@api
async def card(request: Request, caller: Caller, body: dict[str, Any]) -> Response:
    raw = body.get("addresses", [])
    if not isinstance(raw, list):
        return problem(400, 'Send "addresses" as a list of the item\'s e-mail addresses.')
    domains: tuple[str, ...] = request.app.state.internal_domains
    sorted_out = triage(raw[: MAX_ITEM_ADDRESSES + 1], domains)
    if len(raw) > MAX_ITEM_ADDRESSES + 1:
        sorted_out = dataclasses.replace(sorted_out, cut=len(raw) - MAX_ITEM_ADDRESSES)
    found = await run_in_threadpool(pane_cards, request.app.state.store, sorted_out, caller.address)
    data = card_json(found)
    data["viewer"] = caller.address
    data["item_type"] = body.get("item_type") if body.get("item_type") in ("message", "appointment") else None
    return answer(data)


@api
async def me(request: Request, caller: Caller, body: dict[str, Any]) -> Response:
    return answer({"address": caller.address, "via": caller.via})


@api
async def follow_up_done(request: Request, caller: Caller, body: dict[str, Any]) -> Response:
    fid = _id(request, "fid")
    note = body.get("note", "")
    if fid is None or not isinstance(note, str):
        return problem(400, 'Send {"note": "..."} to a follow-up\'s address /addin/api/followups/ID/done.')
    said = await run_in_threadpool(complete_follow_up, request.app.state.store, fid, caller.address, note)
    return answer({"done": said})


@api
async def override(request: Request, caller: Caller, body: dict[str, Any]) -> Response:
    rid = _id(request, "rid")
    store = request.app.state.store
    if request.method == "DELETE":
        if rid is None:
            return problem(404, "No such relationship.")
        said = await run_in_threadpool(
            remove_override, store, rid, str(request.path_params.get("dimension", "")), caller.address
        )
        return answer({"done": said})
    dimension, value = body.get("dimension"), body.get("value")
    if rid is None or not isinstance(dimension, str) or not isinstance(value, str):
        return problem(400, 'Send {"dimension": "type"|"tier"|"owner", "value": "..."}.')
    allowed: tuple[str, ...] = ()
    if dimension == "type":
        allowed = tuple(t.value for t in RelationshipType)
    elif dimension == "tier":
        allowed = tuple(request.app.state.report_settings.tier_order)
    said = await run_in_threadpool(set_override, store, rid, dimension, value, caller.address, allowed)
    return answer({"done": said})


@api
async def duplicate_rejected(request: Request, caller: Caller, body: dict[str, Any]) -> Response:
    pid = _id(request, "pid")
    if pid is None:
        return problem(404, "No such duplicate pair.")
    said = await run_in_threadpool(not_the_same, request.app.state.store, pid, caller.address)
    return answer({"done": said})


ROUTES = [
    Route("/addin/api/me", me, methods=["GET"]),
    Route("/addin/api/card", card, methods=["POST"]),
    Route("/addin/api/followups/{fid}/done", follow_up_done, methods=["POST"]),
    Route("/addin/api/relationships/{rid}/override", override, methods=["POST"]),
    Route("/addin/api/relationships/{rid}/override/{dimension}", override, methods=["DELETE"]),
    Route("/addin/api/duplicates/{pid}/not-the-same", duplicate_rejected, methods=["POST"]),
]
