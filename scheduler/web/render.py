"""Rendering pages: one Jinja2 environment (autoescaped), the layout's navigation and CSRF token."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from scheduler.web.security import User, csrf_token

TEMPLATES = Path(__file__).parent / "templates"


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _money(value: Any) -> str:
    if isinstance(value, Decimal | int | float):
        return f"{value:,.2f}"
    return "" if value is None else str(value)


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["when"] = _when
environment.filters["money"] = _money


def render(
    request: Request, template: str, context: dict[str, Any], user: User | None, status_code: int = 200
) -> HTMLResponse:
    """``template`` with ``context``, the user's navigation and this session's CSRF token."""
    page = environment.get_template(template).render(
        **context,
        user=user,
        nav=user.nav(request.app.state.pages) if user else [],
        csrf=csrf_token(request),
        path=request.url.path,
        auth=request.app.state.web.auth,
    )
    return HTMLResponse(
        page,
        status_code=status_code,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
            "style-src 'self' 'unsafe-inline'; script-src 'none'",
            "Referrer-Policy": "same-origin",
            "X-Content-Type-Options": "nosniff",
        },
    )
