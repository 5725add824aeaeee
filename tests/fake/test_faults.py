"""Injected faults, and what exchangelib raises or does for each."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from exchangelib import (
    IMPERSONATION,
    OAUTH2,
    UTC,
    Account,
    Build,
    Configuration,
    FaultTolerance,
    OAuth2AuthorizationCodeCredentials,
    Version,
)
from exchangelib.errors import (
    ErrorInternalServerTransientError,
    ErrorInvalidSyncStateData,
    ErrorServerBusy,
    ErrorTimeoutExpired,
    UnauthorizedError,
)
from exchangelib.protocol import BaseProtocol

from connector.fake.ews.server import FakeExchange

from .company import ALICE, BOB
from .conftest import AccountFactory, ServerFactory
from .rawsoap import GET_INBOX, envelope, post


def test_server_busy_carries_back_off_under_fail_fast(fake: FakeExchange, alice: Account) -> None:
    fake.faults.add("server_busy", back_off_ms=1500, operation="GetFolder")
    with pytest.raises(ErrorServerBusy) as info:
        _ = alice.inbox
    assert info.value.back_off == 1.5
    assert fake.stats.faults["server_busy"] == 1


def test_server_busy_is_retried_after_the_back_off_under_fault_tolerance(
    fake: FakeExchange, account_for: AccountFactory
) -> None:
    acc = account_for(fake, retry_policy=FaultTolerance(max_wait=10))
    fake.faults.add("server_busy", back_off_ms=300, operation="SyncFolderItems", times=2)
    t0 = time.monotonic()
    changes = list(acc.tasks.sync_items())
    assert len(changes) == 2
    assert time.monotonic() - t0 >= 0.6  # two back-offs of 0.3 s
    assert fake.stats.operations["SyncFolderItems"] == 3


def transient(info: pytest.ExceptionInfo[BaseException]) -> bool:
    """exchangelib turns a 503 into ErrorInternalServerTransientError, re-raised as ErrorServerBusy."""
    cause = info.value.__cause__ or info.value.__context__
    return isinstance(cause, ErrorInternalServerTransientError)


def test_http_503_is_a_transient_server_error(fake: FakeExchange, alice: Account) -> None:
    fake.faults.add("http_503", operation="GetFolder")
    with pytest.raises(ErrorServerBusy) as info:
        _ = alice.inbox
    assert transient(info)


def test_http_503_is_retried_under_fault_tolerance(fake: FakeExchange, account_for: AccountFactory) -> None:
    BaseProtocol.RETRY_WAIT = 0.2  # the back-off exchangelib uses without a hint
    acc = account_for(fake, retry_policy=FaultTolerance(max_wait=10))
    fake.faults.add("http_503", operation="GetFolder", times=1)
    assert acc.inbox.total_count == 3


def test_dropped_connection_surfaces_as_timeout_and_is_not_retried(
    fake: FakeExchange, account_for: AccountFactory
) -> None:
    acc = account_for(fake, retry_policy=FaultTolerance(max_wait=10))
    fake.faults.add("drop", operation="GetFolder", times=1)
    t0 = time.monotonic()
    with pytest.raises(ErrorTimeoutExpired):
        _ = acc.inbox
    assert time.monotonic() - t0 < 5
    assert acc.inbox.total_count == 3  # the next call goes through


def test_slow_response_is_delayed_then_served(fake: FakeExchange, alice: Account) -> None:
    fake.faults.add("slow", delay_ms=400, operation="GetFolder", times=2)
    t0 = time.monotonic()
    assert alice.inbox.total_count == 3
    assert time.monotonic() - t0 >= 0.8


def test_invalid_sync_state_fault_hits_the_next_sync_only(fake: FakeExchange, alice: Account) -> None:
    tasks = alice.tasks
    fake.faults.add("invalid_sync_state", mailbox=ALICE.email)
    with pytest.raises(ErrorInvalidSyncStateData):
        list(tasks.sync_items())
    assert len(list(tasks.sync_items())) == 2


def test_faults_are_scoped_by_mailbox(fake: FakeExchange, account_for: AccountFactory) -> None:
    fake.faults.add("http_503", mailbox=BOB.email, times=None)
    assert account_for(fake).inbox.total_count == 3
    with pytest.raises(ErrorServerBusy) as info:
        _ = account_for(fake, email=BOB.email).inbox
    assert transient(info)
    fake.faults.clear()


def test_wrong_credentials_get_401_with_a_basic_challenge(fake: FakeExchange) -> None:
    r = post(fake, envelope(GET_INBOX, ALICE.email), auth=("svc-relsync", "wrong"))
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_wrong_credentials_raise_unauthorized_in_exchangelib(fake: FakeExchange, account_for: AccountFactory) -> None:
    acc = account_for(fake)
    fake.password = "rotated"  # the service still holds the old one
    with pytest.raises(UnauthorizedError):
        _ = acc.inbox


def test_bearer_tokens_are_accepted_until_they_expire(make_server: ServerFactory) -> None:
    ex = make_server(tokens={"tok-1"})
    bearer = {"Authorization": "Bearer tok-1"}
    ok = requests.post(ex.url, data=envelope(GET_INBOX, ALICE.email), headers=bearer, timeout=10)
    assert ok.status_code == 200 and b"NoError" in ok.content
    ex.faults.add("token_expired")
    expired = requests.post(ex.url, data=envelope(GET_INBOX, ALICE.email), headers=bearer, timeout=10)
    assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    unknown = requests.post(
        ex.url, data=envelope(GET_INBOX, ALICE.email), headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert unknown.status_code == 401 and 'error="invalid_token"' in unknown.headers["WWW-Authenticate"]


def test_faults_and_stats_over_http(fake: FakeExchange, alice: Account) -> None:
    base = fake.base_url
    r = requests.post(
        f"{base}/_fake/faults", json={"kind": "http_503", "operation": "GetFolder", "times": 1}, timeout=10
    )
    assert r.status_code == 200 and r.json()[0]["kind"] == "http_503"
    assert requests.post(f"{base}/_fake/faults", json={"kind": "meteor"}, timeout=10).status_code == 400
    with pytest.raises(ErrorServerBusy):
        _ = alice.inbox
    requests.post(f"{base}/_fake/faults", json={"kind": "http_503", "times": 5}, timeout=10)
    assert len(requests.get(f"{base}/_fake/faults", timeout=10).json()) == 1
    assert requests.delete(f"{base}/_fake/faults", timeout=10).status_code == 200
    assert alice.inbox.total_count == 3
    task = alice.tasks.get(subject="Send brochure")
    task.categories = ["a"]
    task.save(update_fields=["categories"])
    stats = requests.get(f"{base}/_fake/stats", timeout=10).json()
    assert stats["operations"]["GetFolder"] >= 3
    assert stats["mailboxes"][ALICE.email] >= 5
    assert stats["writes"] == {"update": 1} and stats["writes_total"] == 1
    assert stats["faults"] == {"http_503": 1}


def test_concurrent_requests_per_mailbox_are_counted(fake: FakeExchange) -> None:
    fake.faults.add("slow", delay_ms=300, times=None)
    results: list[int] = []

    def call() -> None:
        results.append(post(fake, envelope(GET_INBOX, ALICE.email)).status_code)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200, 200, 200]
    assert fake.stats.max_concurrent[ALICE.email] == 3
    assert fake.stats.overlapping[ALICE.email] == 2
    assert fake.stats.to_json()["max_concurrent"][ALICE.email] == 3


@pytest.fixture(autouse=True)
def _fast_retry_wait() -> None:
    BaseProtocol.RETRY_WAIT = 10


def test_exchangelib_with_a_bearer_token_then_an_expired_token(
    make_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake is plain HTTP on loopback
    ex = make_server(tokens={"at-1"})
    token = {"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600}
    creds = OAuth2AuthorizationCodeCredentials(access_token=token)
    cfg = Configuration(
        service_endpoint=ex.url, credentials=creds, auth_type=OAUTH2, version=Version(build=Build(15, 1, 2507, 6))
    )
    acc = Account(ALICE.email, config=cfg, access_type=IMPERSONATION, default_timezone=UTC)
    assert acc.inbox.total_count == 3
    ex.faults.add("token_expired", operation="SyncFolderItems")
    with pytest.raises(UnauthorizedError):
        list(acc.inbox.sync_items())
