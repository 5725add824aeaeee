"""``/auth/...``: sign-in (Entra ID, or the demo's pick-a-user page), the reply URL, sign-out.

With ``auth = "header"`` there is nothing to sign in to here: the proxy does it.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduler.config_web import WebConfig
from scheduler.web.idtoken import EntraSignIn, SignInRefused
from scheduler.web.render import render
from scheduler.web.security import Refused, check_csrf, safe_next, start_session


async def login(request: Request) -> Response:
    web: WebConfig = request.app.state.web
    target = safe_next(request.query_params.get("next"))
    if web.auth == "header":
        raise Refused(401, f"Sign-in happens at the reverse proxy, which sends {web.trusted_header}.")
    if web.auth == "dev":
        return render(request, "signin_dev.html", {"users": web.roles.users(), "next": target}, user=None)
    entra: EntraSignIn = request.app.state.entra
    try:
        flow = entra.start()
    except SignInRefused as exc:
        raise Refused(502, str(exc)) from None
    request.session["flow"] = flow
    request.session["next"] = target
    return RedirectResponse(flow["auth_uri"], status_code=303)


async def callback(request: Request) -> Response:
    """The reply URL registered on the app: redeem the code, validate the ID token, start a session."""
    web: WebConfig = request.app.state.web
    if web.auth != "oidc":
        raise Refused(404, "This console does not sign in with Entra ID.")
    flow = request.session.pop("flow", None)
    target = safe_next(request.session.pop("next", None))
    if not isinstance(flow, dict):
        raise Refused(
            400,
            "This sign-in reply does not belong to a sign-in started in this browser: "
            "start again from the sign-in page.",
        )
    entra: EntraSignIn = request.app.state.entra
    try:
        signed = entra.finish(flow, dict(request.query_params))
    except SignInRefused as exc:
        request.session.clear()
        raise Refused(401, f"Sign-in refused: {exc}.") from None
    start_session(request, signed.user, web)
    return RedirectResponse(target, status_code=303)


async def dev_login(request: Request) -> Response:
    """The demo's sign-in: any user named in ``[web.roles]``, no password, loopback only (checked at load)."""
    web: WebConfig = request.app.state.web
    if web.auth != "dev":
        raise Refused(404, "This console does not offer the demo sign-in.")
    form = await check_csrf(request)
    user = form.get("user", "")
    if user not in web.roles.users():
        raise Refused(400, "Pick one of the users listed on the sign-in page.")
    start_session(request, user, web)
    return RedirectResponse(safe_next(form.get("next")), status_code=303)


async def logout(request: Request) -> Response:
    form = await check_csrf(request)
    del form
    request.session.clear()
    request.session["csrf"] = secrets.token_urlsafe(32)
    return render(request, "signed_out.html", {}, user=None)


ROUTES = [
    Route("/auth/login", login, methods=["GET"]),
    Route("/auth/login", dev_login, methods=["POST"]),
    Route("/auth/callback", callback, methods=["GET"]),
    Route("/auth/logout", logout, methods=["POST"]),
]
