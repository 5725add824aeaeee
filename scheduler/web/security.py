"""Who is asking, and may they: the signed-in user, roles checked per page and action, CSRF tokens.

The session is Starlette's signed cookie (itsdangerous; ``HttpOnly``, ``SameSite=Lax``, ``Secure``
unless the config turns it off). It holds the user's address, when they signed in and the CSRF token,
never a role: the role is looked up in the config on every request, so taking someone out of
``[web.roles]`` takes effect at once. With ``auth = "header"`` the user comes from the trusted proxy's
header on each request, and only from the configured proxy addresses.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scheduler.config_web import Role, WebConfig

#: Which roles may open what (the page names are the route groups of :mod:`scheduler.web.app`).
PAGE_ROLES: dict[str, tuple[Role, ...]] = {
    "overview": ("admin", "manager"),
    "movement": ("admin", "manager"),
    "compliance": ("admin", "manager"),
    "quality": ("admin", "manager"),
    "relationships": ("admin", "manager", "staff"),
    "followups": ("admin", "manager", "staff"),
    "duplicates": ("admin",),
    "health": ("admin", "manager"),
}
#: Which roles may take an action that is not a page of its own (checked on the server like a page).
ACTION_ROLES: dict[str, tuple[Role, ...]] = {
    "overrides": ("admin",),  # set or remove a staff override on a relationship's page
}
NAV: tuple[tuple[str, str, str], ...] = (
    ("overview", "/overview", "Overview"),
    ("movement", "/movement", "Tier movement"),
    ("compliance", "/compliance", "Cadence compliance"),
    ("relationships", "/relationships", "Relationships"),
    ("followups", "/followups", "Follow-ups"),
    ("duplicates", "/duplicates", "Duplicates"),
    ("quality", "/quality", "Data quality"),
    ("health", "/health", "Sync health"),
)


@dataclass(frozen=True)
class User:
    address: str
    role: Role

    def may(self, page: str) -> bool:
        """Whether this user may open ``page`` or take the action of that name."""
        return self.role in (PAGE_ROLES[page] if page in PAGE_ROLES else ACTION_ROLES[page])

    def nav(self, available: frozenset[str] | set[str]) -> list[tuple[str, str]]:
        """The links of the pages this console serves and this user may open."""
        return [(href, label) for page, href, label in NAV if page in available and self.may(page)]


class Refused(Exception):
    """A request that may not proceed: ``status`` and a sentence for the person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SignInNeeded(Exception):
    """No session: send the browser to sign in, and back here after."""


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use); every form carries it, every POST is checked."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> dict[str, str]:
    """The POSTed form, after checking its ``csrf`` field against the session's token."""
    form = await request.form()
    sent = form.get("csrf")
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not secrets.compare_digest(sent, expected):
        raise Refused(
            403,
            "This form has expired or did not come from this console (missing or wrong CSRF "
            "token): reload the page and try again. Nothing was changed.",
        )
    return {k: v for k, v in form.items() if isinstance(v, str)}


def current_user(request: Request, web: WebConfig) -> User:
    """The signed-in user with their role; :class:`SignInNeeded` or :class:`Refused` otherwise."""
    if web.auth == "header":
        client = request.client.host if request.client else None
        named = request.headers.get(web.trusted_header)
        if named is not None and not web.proxy_allowed(client):
            raise Refused(
                403,
                f"The {web.trusted_header} header is only accepted from the configured proxies "
                "(web.trusted_proxies); this request came from elsewhere.",
            )
        if not named:
            raise Refused(401, f"No user: the reverse proxy must authenticate you and send {web.trusted_header}.")
        address = named.strip()
    else:
        address = request.session.get("user", "")
        expires = request.session.get("expires", 0)
        if not isinstance(address, str) or not address or not isinstance(expires, int | float) or expires < time.time():
            request.session.pop("user", None)
            raise SignInNeeded()
    role = web.roles.role_of(address)
    if role is None:
        raise Refused(
            403,
            f"{address} has no role in this console: ask an administrator to add you to "
            "[web.roles] in the configuration.",
        )
    return User(address, role)


def start_session(request: Request, user: str, web: WebConfig) -> None:
    """A fresh session for ``user`` (a new CSRF token too, so one from before sign-in is useless)."""
    request.session.clear()
    request.session.update(
        {"user": user, "expires": int(time.time() + web.session_hours * 3600), "csrf": secrets.token_urlsafe(32)}
    )


Handler = Callable[[Request, User], Awaitable[Response]]


def guarded(page: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Route decorator: sign-in, the page's roles, and CSRF on POST are checked before the handler runs."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            web: WebConfig = request.app.state.web
            try:
                user = current_user(request, web)
            except SignInNeeded:
                if request.method != "GET":
                    raise Refused(401, "Your session has ended: sign in again. Nothing was changed.") from None
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/auth/login?next={quote(target, safe='')}", status_code=303)
            request.state.user = user  # error pages show the signed-in user's navigation too
            if not user.may(page):
                raise Refused(403, f"Your role ({user.role}) does not include this page.")
            if request.method == "POST":
                request.state.form = await check_csrf(request)
            return await handler(request, user)

        return endpoint

    return wrap


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//elsewhere`` or a full URL) is followed after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
