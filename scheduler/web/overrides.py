"""Staff overrides from a relationship's page (admins): set or remove an override of type, tier or owner.

The same override as a managed category set by hand in Outlook or the add-in's override action, through
the same store service (:func:`mapping.store.addin_actions.set_override` / ``remove_override`` with
``console=True``): recorded with who set it and when, audited, applied by the next classification run and
written back to the contacts' categories. Each is a POST with the session's CSRF token; the role is checked
on the server (managers and staff are refused with 403 and nothing changes).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mapping.store.addin_actions import OVERRIDABLE, AddinActionError, remove_override, set_override
from mapping.store.models import RelationshipType
from scheduler.web.security import Refused, User, guarded

TYPES = tuple(t.value for t in RelationshipType)


def choices(request: Request) -> dict[str, tuple[str, ...]]:
    """What each overridable dimension may be set to (empty: free text, checked by the store service)."""
    tiers: tuple[str, ...] = tuple(request.app.state.report_settings.tier_order)
    owners: tuple[str, ...] = tuple(request.app.state.configured_mailboxes)
    return {"type": TYPES, "tier": tiers, "owner": owners}


def _rid(request: Request) -> int:
    raw = request.path_params["rid"]
    if not raw.isdigit() or len(raw) > 18:
        raise Refused(404, f"There is no relationship {raw[:40]!r}: relationship ids are whole numbers.")
    return int(raw)


def _back(rid: int, said: str, problem: bool, request: Request) -> Response:
    request.session["override_flash"] = {"text": said, "problem": problem}
    return RedirectResponse(f"/relationships/{rid}#class-h", status_code=303)


@guarded("overrides")
async def set_one(request: Request, user: User) -> Response:
    rid = _rid(request)
    form = request.state.form
    dimension, value = form.get("dimension", ""), form.get("value", "")
    if dimension not in OVERRIDABLE:
        raise Refused(400, f"Overrides are of {', '.join(OVERRIDABLE)}: use the form on the page. Nothing was changed.")
    allowed = choices(request)[dimension] if dimension != "owner" else ()
    try:
        said = await run_in_threadpool(
            lambda: set_override(request.app.state.store, rid, dimension, value, user.address, allowed, console=True)
        )
    except AddinActionError as exc:
        if "there is no relationship" in str(exc):
            raise Refused(404, f"There is no relationship {rid}: it may have been merged into another.") from None
        return _back(rid, f"{str(exc)[:1].upper()}{str(exc)[1:300]}. Nothing was changed.", True, request)
    return _back(rid, said[:1].upper() + said[1:] + ".", False, request)


@guarded("overrides")
async def remove_one(request: Request, user: User) -> Response:
    rid = _rid(request)
    dimension = request.path_params["dimension"]
    if dimension not in OVERRIDABLE:
        raise Refused(404, f"Overrides are of {', '.join(OVERRIDABLE)}: use the buttons on the page.")
    try:
        said = await run_in_threadpool(
            lambda: remove_override(request.app.state.store, rid, dimension, user.address, console=True)
        )
    except AddinActionError as exc:
        return _back(rid, f"{str(exc)[:1].upper()}{str(exc)[1:300]}. Nothing was changed.", True, request)
    return _back(rid, said[:1].upper() + said[1:] + ".", False, request)


ROUTES = [
    Route("/relationships/{rid}/override", set_one, methods=["POST"]),
    Route("/relationships/{rid}/override/{dimension}/remove", remove_one, methods=["POST"]),
]
