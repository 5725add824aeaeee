"""The web console's ASGI application (Starlette): :func:`create_app` wires the config, the store,
sign-in, sessions and every page.

Pages are server-rendered HTML with one stylesheet served from here: no JavaScript, no CDN, no
request to anywhere else. Errors a person can cause (an unknown id, a form from another site, a role
that does not include a page) are pages with one sentence and the right status, never a traceback.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from mapping.errors import EXIT_USAGE, RelsyncError
from mapping.store.errors import store_failure
from mapping.store.insights import ReportSettings
from mapping.store.store import Store
from scheduler.config_web import WebConfig
from scheduler.web import overrides, pages, reports, review, signin
from scheduler.web.addin import api as addin_api
from scheduler.web.addin import pane as addin_pane
from scheduler.web.addin.tokens import AddinTokens
from scheduler.web.idtoken import EntraSignIn
from scheduler.web.render import render
from scheduler.web.security import PAGE_ROLES, Refused

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "relsync_session"


class WebConfigError(RelsyncError):
    """The ``[web]`` section cannot serve the console as configured."""

    exit_code = EXIT_USAGE
    topic = "config"


def session_secret(web: WebConfig) -> str:
    """The cookie signing key: from the named environment variable, else a new random one (sessions
    then end when the process restarts, and several processes would not share them)."""
    if web.session_secret_env is None:
        return secrets.token_urlsafe(48)
    value = os.environ.get(web.session_secret_env, "")
    if len(value) < 32:
        raise WebConfigError(
            f"web.session_secret_env names {web.session_secret_env}, which is unset or shorter "
            "than 32 characters: set it to a long random value (for example the output of "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
        )
    return value


def entra_sign_in(web: WebConfig) -> EntraSignIn | None:
    if web.auth != "oidc":
        return None
    assert web.oidc is not None  # checked at load
    secret = os.environ.get(web.oidc.client_secret_env, "")
    if not secret:
        raise WebConfigError(
            f"web.oidc.client_secret_env names {web.oidc.client_secret_env}, which is not set: "
            "export the app registration's client secret in it"
        )
    return EntraSignIn(web.oidc, secret)


async def stylesheet(request: Request) -> Response:
    return FileResponse(
        STATIC / "console.css", media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return _error_page(request, exc.status, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = (
        "There is no such page in this console."
        if exc.status_code == 404
        else "This address does not take that kind of request."
        if exc.status_code == 405
        else str(exc.detail)
    )
    return _error_page(request, exc.status_code, message)


async def _server_error(request: Request, exc: Exception) -> Response:
    failure = store_failure(exc)
    if failure is not None:
        log.warning("web console: database problem on %s: %s", request.url.path, failure)
        return _error_page(
            request,
            503,
            "The relationship store cannot be reached right now: try again in a "
            "minute, and tell the administrator if it lasts.",
        )
    log.exception("web console: unexpected error on %s", request.url.path)
    return _error_page(request, 500, "Something went wrong on our side; it has been logged for the administrator.")


def _error_page(request: Request, status: int, message: str) -> Response:
    user = getattr(request.state, "user", None)
    signed_in = status in (401,) and request.app.state.web.auth != "header"
    return render(
        request, "error.html", {"status": status, "message": message, "sign_in": signed_in}, user, status_code=status
    )


def create_app(
    web: WebConfig,
    store: Store,
    configured_mailboxes: Sequence[str] = (),
    settings: ReportSettings | None = None,
    internal_domains: Sequence[str] = (),
) -> Starlette:
    """The console for ``store``: ``configured_mailboxes`` for sync health (and the Outlook add-in's
    users), ``settings`` (from the config, :func:`scheduler.web.reports.report_settings`) for the report
    pages, ``internal_domains`` for telling colleagues from customers in the add-in."""
    if not (web.roles.admin or web.roles.manager or web.roles.staff):
        raise WebConfigError(
            "web.roles gives nobody a role, so nobody could use the console: add [web.roles] "
            'with admin = ["you@example.com"] (see README, "Web console")'
        )
    app = Starlette(
        routes=[
            Route("/static/console.css", stylesheet),
            *signin.ROUTES,
            *pages.ROUTES,
            *review.ROUTES,
            *overrides.ROUTES,
            *reports.ROUTES,
            *addin_api.ROUTES,
            *addin_pane.ROUTES,
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=session_secret(web),
                session_cookie=SESSION_COOKIE,
                max_age=int(web.session_hours * 3600),
                same_site="lax",
                https_only=web.cookie_secure,
            )
        ],
        exception_handlers={Refused: _refused, HTTPException: _http_error, Exception: _server_error},
    )
    app.state.web = web
    app.state.store = store
    app.state.entra = entra_sign_in(web)
    app.state.configured_mailboxes = list(configured_mailboxes)
    app.state.pages = frozenset(PAGE_ROLES)
    app.state.report_settings = settings or ReportSettings()
    app.state.internal_domains = tuple(internal_domains)
    app.state.addin_tokens = AddinTokens(web.addin, configured_mailboxes, store)
    return app
