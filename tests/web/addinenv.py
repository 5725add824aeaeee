"""Helpers of the Outlook add-in tests: the Office.js stand-in, the add-in's config, and the app in-process."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests

from mapping.store.store import Store
from scheduler.config_web import AddinConfig, RolesConfig, WebConfig
from scheduler.web.app import create_app
from scheduler.web.server import ConsoleThread, Listen
from tests.web.consoleenv import free_port

AUDIENCE = "api://relsync.example.com/relsync-api"
OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
STANDIN = Path(__file__).with_name("office_standin.js")
UNAUTHORIZED = {"error": "Not signed in to relsync."}


@contextmanager
def app_serving(web: WebConfig, store: Store, mailboxes: Sequence[str], domains: Sequence[str]) -> Iterator[str]:
    """The console (with the add-in) in this process on a free port until the block ends; yields its URL."""
    port = free_port()
    thread = ConsoleThread(
        create_app(web, store, mailboxes, internal_domains=domains), Listen("127.0.0.1", port, None, None)
    ).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        thread.stop()


def web_config(addin: AddinConfig, staff: Sequence[str]) -> WebConfig:
    return WebConfig(auth="dev", cookie_secure=False, addin=addin, roles=RolesConfig(staff=list(staff)))


def call(base: str, path: str, token: str | None, body: object | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if body is None and path.endswith("/me"):
        return requests.get(base + path, headers=headers, timeout=30)
    return requests.post(base + path, json=body if body is not None else {}, headers=headers, timeout=30)


def dev_sign_in(base: str, user: str) -> requests.Session:
    """A browser-like session signed in to the console with the demo sign-in."""
    s = requests.Session()
    page = s.get(f"{base}/auth/login", timeout=30).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None, page[:500]
    answer = s.post(
        f"{base}/auth/login", data={"user": user, "csrf": csrf.group(1), "next": "/"}, timeout=30, allow_redirects=False
    )
    assert answer.status_code == 303, answer.text[:500]
    return s


def form_csrf(page: str) -> str:
    found = re.search(r"name='csrf' value='([^']+)'", page)
    assert found is not None, page[:500]
    return found.group(1)
