"""On Microsoft 365 the pane signs in with nested app authentication and the API checks the Entra token.

Headless Chromium loads the pane with the Office.js stand-in and, in place of MSAL.js (which relsync serves
from the file the administrator unpacked), a stand-in whose nestable client application answers
``acquireTokenSilent`` with an access token the fake token service issued for relsync's API, as Outlook's
broker would. The API validates it in full (signature from the tenant's keys, issuer, audience, tenant).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.fake.tokens import FakeTokenService
from mapping.store.insights_card import relationship_card, search
from mapping.store.store import Store
from scheduler.config import load_config
from scheduler.config_web import AddinConfig
from tests.web.addinenv import AUDIENCE, OFFICE_JS, STANDIN, app_serving, web_config
from tests.web.consoleenv import ARTIFACTS, Demo

MSAL_STANDIN = """
window.msal = { createNestablePublicClientApplication: function (config) {
  window.__naaConfig = config;
  return Promise.resolve({
    acquireTokenSilent: function (request) { window.__naaScopes = request.scopes;
      return Promise.resolve({ accessToken: window.__entraToken }); },
    acquireTokenPopup: function () { return Promise.reject(new Error("no popup in tests")); }
  });
} };
"""


@pytest.fixture(scope="module")
def served(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str, str]]:
    loaded = load_config(demo.config)
    staff = list(loaded.config.mailboxes.addresses)
    msal = tmp_path_factory.mktemp("msal") / "msal-browser.min.js"
    msal.write_text(MSAL_STANDIN, encoding="utf-8")
    store = Store(loaded.config.store.url)
    try:
        name, address = _customer(store)
        with FakeTokenService(users={staff[0]: "pw"}) as idp:
            addin = AddinConfig(
                entra_audience=AUDIENCE,
                entra_tenant_id=idp.oidc.tenant_id,
                entra_authority_host=idp.authority_host,
                entra_ca_file=str(idp.ca_file),
                entra_client_id="relsync-addin-client",
                msal_browser_js=str(msal),
            )
            with app_serving(
                web_config(addin, staff), store, staff, list(loaded.config.organisation.internal_domains)
            ) as base:
                yield base, idp.user_access_token(staff[0], AUDIENCE), name, address
    finally:
        store.dispose()


def _customer(store: Store) -> tuple[str, str]:
    """An organisation with a relationship, and an e-mail address of one of its people."""
    for hit in search(store, "e"):
        card = relationship_card(store, hit.relationship_id, limit=1)
        if card is not None and card.kind == "organization":
            emails = [e for p in card.people for e in p.emails]
            if emails:
                return card.name, emails[0]
    raise AssertionError("the demo has no organisation with an e-mail address")


def test_the_pane_signs_in_with_nested_app_authentication_and_shows_the_card(
    served: tuple[str, str, str, str], browser: Any
) -> None:
    base, token, name, address = served
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route(
        OFFICE_JS, lambda route: route.fulfill(body=STANDIN.read_text(encoding="utf-8"), content_type="text/javascript")
    )
    items = [{"itemType": "message", "from": {"emailAddress": address}, "to": []}]
    page.add_init_script(f"window.__relsyncItems = {json.dumps(items)}; window.__entraToken = {json.dumps(token)};")
    try:
        page.goto(f"{base}/addin/pane.html")
        page.get_by_role("heading", name=name).wait_for(timeout=20_000)
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(ARTIFACTS) / "addin-naa.png"), full_page=True)
    assert page.evaluate("window.__naaScopes") == [f"{AUDIENCE}/access_as_user"]
    assert page.evaluate("window.__naaConfig.auth.clientId") == "relsync-addin-client"
    assert page.evaluate("window.__relsyncTokenCalls || 0") == 0  # no Exchange identity token asked for
    assert errors == []
    context.close()
