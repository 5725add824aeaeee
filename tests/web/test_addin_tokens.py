"""The add-in's API lets in only a genuine token of a configured staff mailbox, and answers only for it.

Entra access tokens come from the fake token service (signed, keys published at its jwks_uri); Exchange
identity tokens from the fake Exchange (signed with the certificate its auth metadata document lists).
Every refusal is the same bare 401: nothing says which check failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from connector.fake.ews.server import FakeExchange
from connector.fake.tokens import FakeTokenService
from mapping.store.store import Store
from scheduler.config import load_config
from scheduler.config_web import AddinConfig
from tests.web.addinenv import AUDIENCE, UNAUTHORIZED, app_serving, call, dev_sign_in, form_csrf, web_config
from tests.web.consoleenv import Demo

PANE = "https://relsync.example.com/addin/pane.html"


@dataclass
class Env:
    idp: FakeTokenService
    fake: FakeExchange
    addin: AddinConfig
    store: Store
    staff: list[str]
    domains: list[str]
    outsider: str


@pytest.fixture(scope="module")
def env(demo: Demo) -> Iterator[Env]:
    loaded = load_config(demo.config)
    staff = list(loaded.config.mailboxes.addresses)
    with FakeTokenService(users={a: "pw" for a in [*staff, demo.outsider]}) as idp, FakeExchange(demo.company) as fake:
        addin = AddinConfig(
            entra_audience=AUDIENCE,
            entra_tenant_id=idp.oidc.tenant_id,
            entra_authority_host=idp.authority_host,
            entra_ca_file=str(idp.ca_file),
            exchange_metadata_urls=[fake.metadata_url],
            pane_url=PANE,
        )
        store = Store(loaded.config.store.url)
        try:
            yield Env(idp, fake, addin, store, staff, list(loaded.config.organisation.internal_domains), demo.outsider)
        finally:
            store.dispose()


@pytest.fixture(scope="module")
def base(env: Env) -> Iterator[str]:
    with app_serving(web_config(env.addin, env.staff), env.store, env.staff, env.domains) as url:
        yield url


def _link(base: str, env: Env, user: str) -> None:
    """Link ``user``'s Exchange identity the way staff do: signed in to the console, /addin/link."""
    session = dev_sign_in(base, user)
    page = session.get(f"{base}/addin/link", timeout=30)
    assert page.status_code == 200
    token = env.fake.identity_token(user, PANE)
    done = session.post(f"{base}/addin/link", data={"csrf": form_csrf(page.text), "token": token}, timeout=30)
    assert done.status_code == 200 and "Linked" in done.text


def test_a_valid_entra_token_of_a_staff_mailbox_is_answered_for_that_user(base: str, env: Env) -> None:
    user = env.staff[0]
    answer = call(base, "/addin/api/me", env.idp.user_access_token(user, AUDIENCE))
    assert answer.status_code == 200
    assert answer.json() == {"address": user, "via": "entra"}


def test_a_valid_exchange_identity_token_is_answered_once_linked_in_the_console(base: str, env: Env) -> None:
    user = env.staff[1]
    token = env.fake.identity_token(user, PANE)
    assert call(base, "/addin/api/me", token).json() == UNAUTHORIZED  # not linked yet
    _link(base, env, user)
    answer = call(base, "/addin/api/me", token)
    assert answer.status_code == 200
    assert answer.json() == {"address": user, "via": "exchange"}


def test_the_link_page_refuses_a_token_that_is_not_a_genuine_exchange_identity_token(base: str, env: Env) -> None:
    user = env.staff[0]
    session = dev_sign_in(base, user)
    page = session.get(f"{base}/addin/link", timeout=30)
    forged = env.fake.identity_token(user, PANE, tamper="forged")
    answer = session.post(f"{base}/addin/link", data={"csrf": form_csrf(page.text), "token": forged}, timeout=30)
    assert answer.status_code == 400
    assert call(base, "/addin/api/me", env.fake.identity_token(user, PANE)).status_code == 401


@pytest.mark.parametrize("tamper", ["expired", "wrong_audience", "wrong_tenant", "forged", "wrong_issuer"])
def test_a_bad_entra_token_is_refused_with_a_bare_401(base: str, env: Env, tamper: str) -> None:
    token = env.idp.user_access_token(env.staff[0], AUDIENCE, tamper=tamper)
    answer = call(base, "/addin/api/card", token, {"addresses": ["someone@example.com"]})
    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("tamper", ["expired", "wrong_audience", "forged", "other_metadata", "wrong_version"])
def test_a_bad_exchange_identity_token_is_refused_with_a_bare_401(base: str, env: Env, tamper: str) -> None:
    user = env.staff[1]
    _link(base, env, user)
    answer = call(base, "/addin/api/me", env.fake.identity_token(user, PANE, tamper=tamper))
    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED


def test_a_token_for_the_api_of_someone_who_is_no_staff_mailbox_is_refused(base: str, env: Env) -> None:
    answer = call(base, "/addin/api/me", env.idp.user_access_token(env.outsider, AUDIENCE))
    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 20000]
)
def test_no_token_or_garbage_is_a_bare_401(base: str, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    answer = requests.post(f"{base}/addin/api/card", json={"addresses": []}, headers=headers, timeout=30)
    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED


def test_a_token_replayed_after_the_mailbox_left_the_config_is_refused(env: Env) -> None:
    user = env.staff[0]
    token = env.idp.user_access_token(user, AUDIENCE)
    remaining = [a for a in env.staff if a != user]
    with app_serving(web_config(env.addin, env.staff), env.store, env.staff, env.domains) as before:
        assert call(before, "/addin/api/me", token).status_code == 200
    with app_serving(web_config(env.addin, remaining), env.store, remaining, env.domains) as after:
        answer = call(after, "/addin/api/me", token)
    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED


def test_a_linked_exchange_identity_replayed_after_the_mailbox_left_the_config_is_refused(base: str, env: Env) -> None:
    user = env.staff[-1]
    _link(base, env, user)
    token = env.fake.identity_token(user, PANE)
    assert call(base, "/addin/api/me", token).status_code == 200
    remaining = [a for a in env.staff if a != user]
    with app_serving(web_config(env.addin, remaining), env.store, remaining, env.domains) as after:
        answer = call(after, "/addin/api/card", token, {"addresses": ["someone@example.com"]})
    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED
