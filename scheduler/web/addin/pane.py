"""The task pane's page, script, styles and icons under ``/addin/``, and linking an Exchange user.

The page loads Office.js from Microsoft's address (``web.addin.office_js``; Microsoft requires that) and
everything else from relsync: no other CDN. It may be framed (Outlook on the web hosts the pane in an
iframe), so unlike the console pages it sends no ``X-Frame-Options``.

``/addin/link`` (Exchange Server): a console-signed-in user links the Exchange identity of the token
the pane hands over (in the URL fragment, which never reaches a server log) to their own address, once.
"""

from __future__ import annotations

import html
import struct
import zlib
from functools import cache
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from mapping.store.addin import link_identity
from scheduler.config_web import AddinConfig
from scheduler.web.addin.tokens import AddinTokens, TokenRefused
from scheduler.web.security import Refused, User, guarded

STATIC = Path(__file__).parent / "static"
ICON_SIZES = (16, 32, 64, 80, 128)


def auth_mode(config: AddinConfig) -> str:
    entra, exchange = config.entra_audience is not None, bool(config.exchange_metadata_urls)
    return "both" if entra and exchange else "exchange" if exchange else "entra"


def pane_page(config: AddinConfig) -> str:
    office = html.escape(config.office_js, quote=True)
    msal = "<script src='/addin/msal-browser.min.js'></script>" if config.msal_browser_js else ""
    naa = ""
    if config.entra_audience and config.entra_client_id:
        scope = f"{config.entra_audience.rstrip('/')}/access_as_user"
        naa = (
            f" data-client-id='{html.escape(config.entra_client_id, quote=True)}'"
            f" data-scope='{html.escape(scope, quote=True)}'"
        )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>relsync</title><link rel='stylesheet' href='/addin/pane.css'>"
        f"<script src='{office}'></script>{msal}</head><body>"
        f"<main id='relsync' data-auth='{auth_mode(config)}'{naa} aria-live='polite'>"
        "<p class='empty'>Loading the relationship card...</p></main>"
        "<script src='/addin/pane.js'></script></body></html>"
    )


def _csp(config: AddinConfig) -> str:
    office = config.office_js.split("/lib/")[0] if config.office_js.startswith("https://") else ""
    # Nested app authentication: MSAL.js asks Outlook for the token, and may read the authority's metadata.
    login = " https://login.microsoftonline.com" if config.entra_client_id else ""
    return (
        f"default-src 'self'; script-src 'self' {office}; connect-src 'self'{login}; img-src 'self' data:; "
        f"style-src 'self'; frame-ancestors https: 'self'; base-uri 'none'; form-action 'self'"
    ).replace("  ", " ")


async def pane(request: Request) -> Response:
    config: AddinConfig = request.app.state.web.addin
    return HTMLResponse(
        pane_page(config),
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": _csp(config),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    media = {"pane.js": "text/javascript", "pane.css": "text/css", "link.js": "text/javascript"}.get(name)
    if media is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    return FileResponse(
        STATIC / name, media_type=media, headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    )


async def msal_script(request: Request) -> Response:
    """MSAL.js for nested app authentication, from the file the administrator unpacked (no CDN)."""
    config: AddinConfig = request.app.state.web.addin
    if config.msal_browser_js is None or not Path(config.msal_browser_js).is_file():
        return Response("Not found", status_code=404, media_type="text/plain")
    return FileResponse(
        config.msal_browser_js,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@cache
def icon_png(size: int) -> bytes:
    """relsync's square icon (a blue tile with a lighter inner square) as PNG, made here: no image files."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    inner = range(size // 4, size - size // 4)
    rows = b"".join(
        b"\x00" + b"".join(b"\xff\xff\xff" if x in inner and y in inner else b"\x0f\x6c\xbd" for x in range(size))
        for y in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def icon(request: Request) -> Response:
    raw = str(request.path_params["size"])
    if not raw.isdigit() or int(raw) not in ICON_SIZES:
        return Response("Not found", status_code=404, media_type="text/plain")
    return Response(icon_png(int(raw)), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})


def _link_page(user: User, csrf: str, message: str | None = None) -> HTMLResponse:
    said = f"<p role='status'>{html.escape(message)}</p>" if message else ""
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Link Outlook to relsync</title>"
        "<link rel='stylesheet' href='/addin/pane.css'></head><body><main>"
        f"<h1>Link Outlook to relsync</h1>{said}"
        f"<p>You are signed in to relsync as <strong>{html.escape(user.address)}</strong>. Linking lets the "
        "relationship card in Outlook answer for you without another sign-in.</p>"
        "<form method='post' action='/addin/link'>"
        f"<input type='hidden' name='csrf' value='{html.escape(csrf, quote=True)}'>"
        "<input type='hidden' name='token' id='token' value=''>"
        "<button type='submit' class='primary'>Link my Outlook</button></form>"
        "<script src='/addin/link.js'></script></main></body></html>"
    )
    return HTMLResponse(
        page,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; form-action 'self'",
            "Referrer-Policy": "no-referrer",
        },
    )


@guarded("relationships")
async def link(request: Request, user: User) -> Response:
    from scheduler.web.security import csrf_token

    if request.method == "GET":
        return _link_page(user, csrf_token(request))
    tokens: AddinTokens = request.app.state.addin_tokens
    if user.address.casefold() not in tokens.staff:
        raise Refused(403, f"{user.address} is not a staff mailbox relsync syncs, so the card cannot answer for it.")
    raw = request.state.form.get("token", "")
    try:
        identity = await run_in_threadpool(tokens.exchange_identity, tokens.bearer(f"Bearer {raw}"))
    except TokenRefused:
        raise Refused(
            400,
            "This link did not come from Outlook on your Exchange server (no valid identity token): "
            "use the Link button in the relsync pane in Outlook.",
        ) from None
    await run_in_threadpool(link_identity, request.app.state.store, identity.key, user.address, f"web:{user.address}")
    return _link_page(
        user,
        csrf_token(request),
        "Linked: the relationship card in Outlook now answers for you. Close this window and select a message again.",
    )


ROUTES = [
    Route("/addin/pane.html", pane, methods=["GET"]),
    Route("/addin/link", link, methods=["GET", "POST"]),
    Route("/addin/icon-{size}.png", icon, methods=["GET"]),
    Route("/addin/msal-browser.min.js", msal_script, methods=["GET"]),
    Route("/addin/{name}", static, methods=["GET"]),
]
