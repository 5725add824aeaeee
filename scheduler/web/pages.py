"""The console's pages: relationships (search and one relationship, over
:mod:`mapping.store.insights_card`), follow-ups (drill-down of cadence compliance; staff see their
own), sync health (as ``relsync status``).

Handlers run store calls in the thread pool (they block on the database) and never build SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mapping.reports import ReportInputError
from mapping.store.console import follow_ups, sync_health
from mapping.store.insights_card import MAX_SEARCH_LENGTH, relationship_card, search
from mapping.store.store import Store
from scheduler.status_view import duration, problem_lines
from scheduler.web.overrides import choices
from scheduler.web.render import render
from scheduler.web.security import Refused, User, guarded

FOLLOW_UP_STATES = ("open", "overdue", "all")


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


@guarded("relationships")
async def home(request: Request, user: User) -> Response:
    """``/``: the overview for those who may see it, the relationships otherwise."""
    if "overview" in request.app.state.pages and user.may("overview"):
        return RedirectResponse("/overview", status_code=303)
    return RedirectResponse("/relationships", status_code=303)


@guarded("relationships")
async def relationships(request: Request, user: User) -> Response:
    query = request.query_params.get("q", "")
    hits: list[Any] = []
    problem = ""
    if len(query.strip()) > MAX_SEARCH_LENGTH:
        # Do not echo 10 KB back into the page: say how long it was and what to do.
        problem = (
            f"That search is {len(query):,} characters long; search for at most {MAX_SEARCH_LENGTH}: "
            "part of a name, an e-mail address, a domain or a phone number."
        )
        query = ""
    else:
        try:
            hits = list(await run_in_threadpool(search, _store(request), query))
        except ReportInputError as exc:
            problem = str(exc)
    return render(request, "relationships.html", {"query": query, "hits": hits, "problem": problem}, user)


@guarded("relationships")
async def relationship(request: Request, user: User) -> Response:
    raw = request.path_params["rid"]
    if not raw.isdigit() or len(raw) > 18:
        raise Refused(
            404,
            f"There is no relationship {raw[:40]!r}: relationship ids are whole numbers. "
            "Search for it by name, e-mail address, domain or phone.",
        )
    web = request.app.state.web
    page = await run_in_threadpool(relationship_card, _store(request), int(raw), web.timeline_limit)
    if page is None:
        raise Refused(
            404,
            f"There is no relationship {raw}: it may have been merged into another. "
            "Search for it by name, e-mail address, domain or phone.",
        )
    follow_ups_shown = page.follow_ups
    if user.role == "staff":
        # Staff see every relationship, but only their own follow-ups.
        follow_ups_shown = tuple(f for f in page.follow_ups if f.owner.casefold() == user.address.casefold())
    return render(
        request,
        "relationship.html",
        {
            "page": page,
            "follow_ups": follow_ups_shown,
            "today": datetime.now(UTC).date(),
            "override_choices": choices(request) if user.may("overrides") else None,
            "flash": request.session.pop("override_flash", None),
        },
        user,
    )


@guarded("followups")
async def followups(request: Request, user: User) -> Response:
    state = request.query_params.get("state", "open")
    if state not in FOLLOW_UP_STATES:
        state = "open"
    owner = request.query_params.get("owner") or None
    if user.role == "staff":
        owner = user.address
    elif owner is not None and (len(owner) > MAX_SEARCH_LENGTH or not owner.isprintable()):
        owner = None  # no address is that long or holds control characters
    rows = await run_in_threadpool(follow_ups, _store(request), datetime.now(UTC), owner, state)
    return render(
        request, "followups.html", {"rows": rows, "state": state, "owner": owner, "states": FOLLOW_UP_STATES}, user
    )


@guarded("health")
async def health(request: Request, user: User) -> Response:
    configured = request.app.state.configured_mailboxes
    rows = await run_in_threadpool(sync_health, _store(request), datetime.now(UTC), configured)
    for row in rows:
        row["lag_text"] = duration(row.get("lag_seconds"))
    return render(request, "health.html", {"rows": rows, "problems": problem_lines(rows)}, user)


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/relationships", relationships, methods=["GET"]),
    Route("/relationships/{rid}", relationship, methods=["GET"]),
    Route("/followups", followups, methods=["GET"]),
    Route("/health", health, methods=["GET"]),
]
