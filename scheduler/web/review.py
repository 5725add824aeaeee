"""``/duplicates``: the review queue side by side with its evidence; merge, reject, unmerge (admins).

Decisions go through :mod:`mapping.store.review`, the same store service as ``relsync duplicates``,
recorded as made by the signed-in user. Each is a POST with the session's CSRF token.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mapping.store.review import ReviewError, list_pairs, merge_pair, reject_pair, unmerge_pair
from mapping.store.store import Store
from scheduler.web.render import render
from scheduler.web.security import Refused, User, guarded

STATUSES = ("pending", "merged", "rejected", "all")
ACTIONS = {"merge": merge_pair, "reject": reject_pair, "unmerge": unmerge_pair}


@guarded("duplicates")
async def queue(request: Request, user: User) -> Response:
    status = request.query_params.get("status", "pending")
    if status not in STATUSES:
        status = "pending"
    store: Store = request.app.state.store
    pairs = await run_in_threadpool(list_pairs, store, status)
    done = request.session.pop("flash", None)
    return render(
        request,
        "duplicates.html",
        {"pairs": pairs[:200], "total": len(pairs), "status": status, "statuses": STATUSES, "flash": done},
        user,
    )


@guarded("duplicates")
async def decide(request: Request, user: User) -> Response:
    action = request.path_params["action"]
    raw = request.path_params["pid"]
    if action not in ACTIONS or not raw.isdigit() or len(raw) > 18:
        raise Refused(404, "No such duplicate decision: use the buttons on the review page.")
    store: Store = request.app.state.store
    try:
        said = await run_in_threadpool(ACTIONS[action], store, int(raw), f"web:{user.address}")
    except ReviewError as exc:
        raise Refused(409, f"{exc}. Nothing was changed.") from None
    request.session["flash"] = said
    back = request.state.form.get("status", "pending")
    return RedirectResponse(f"/duplicates?status={back if back in STATUSES else 'pending'}", status_code=303)


ROUTES = [
    Route("/duplicates", queue, methods=["GET"]),
    Route("/duplicates/{pid}/{action}", decide, methods=["POST"]),
]
