"""Who may call the fake Graph and what it answers when it will not: tokens (msal through the fake token
service), scope, unknown mailboxes, throttling and other faults, $batch, and the stats that witness it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from connector.auth import OAuthSettings, TokenSource
from connector.fake.ews.server import FakeExchange
from connector.fake.graph.server import FakeGraph
from connector.fake.tokens import FakeTokenService

from ..company import ALICE, BOB
from .conftest import Client, GraphFactory

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "fake-secret-Zq8~x"
WINDOW = "startDateTime=2026-01-01T00:00:00Z&endDateTime=2026-12-31T00:00:00Z"


@pytest.fixture
def idp(exchange: FakeExchange) -> Iterator[FakeTokenService]:
    with FakeTokenService(exchange=exchange, clients={CLIENT_ID: SECRET}) as service:
        yield service


def _token(idp: FakeTokenService) -> str:
    assert idp.ca_file is not None
    settings = OAuthSettings(
        tenant_id=idp.tenant,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        authority_host=idp.authority_host,
        ca_bundle=idp.ca_file,
        resource="https://graph.microsoft.com",
    )
    return str(TokenSource(settings).acquire()["access_token"])


def test_tokens_from_the_token_service_work_until_they_expire(idp: FakeTokenService, client: Client) -> None:
    client.token = _token(idp)
    assert client.get(client.user() + "/contacts/delta").status_code == 200
    idp.expire()
    r = client.get(client.user() + "/contacts/delta")
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    assert r.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert r.json()["error"]["message"] == "Access token has expired or is not yet valid."
    client.token = _token(idp)  # a fresh one
    assert client.get(client.user() + "/contacts/delta").status_code == 200


def test_unknown_tokens_and_missing_ones_are_refused(client: Client) -> None:
    client.token = "made-up"
    assert client.get(client.user() + "/contacts/delta").status_code == 401
    bare = client.session.get(client.url(client.user() + "/contacts/delta"), timeout=10)
    assert bare.status_code == 401


def test_mailboxes_outside_the_scope_are_forbidden_and_unknown_ones_invalid(make_graph: GraphFactory) -> None:
    _, graph = make_graph(scope={ALICE.email.upper()})
    client = Client(graph)
    assert client.get(client.user(ALICE.email) + "/contacts/delta").status_code == 200
    r = client.get(client.user(BOB.email) + "/contacts/delta")
    assert r.status_code == 403 and r.json()["error"]["code"] == "ErrorAccessDenied"
    assert "AppOnly AccessPolicy" in r.json()["error"]["message"]
    r = client.get(client.user("nobody@contoso.test") + "/contacts/delta")
    assert r.status_code == 404 and r.json()["error"]["code"] == "ErrorInvalidUser"
    assert r.json()["error"]["message"] == "The requested user 'nobody@contoso.test' is invalid."
    client.session.close()


def test_throttling_answers_429_and_503_with_retry_after(graph: FakeGraph, client: Client) -> None:
    graph.faults.add("server_busy", operation="contacts.delta", back_off_ms=1500)
    graph.faults.add("http_503", operation="messages.delta", back_off_ms=3000)
    r = client.get(client.user() + "/contacts/delta")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    assert r.json()["error"]["code"] == "TooManyRequests"
    r = client.get(client.user() + "/mailFolders/inbox/messages/delta")
    assert r.status_code == 503 and r.headers["Retry-After"] == "3"
    assert r.json()["error"]["code"] == "ServiceNotAvailable"
    assert client.get(client.user() + "/contacts/delta").status_code == 200
    stats = requests.get(f"{graph.root_url}/_fake/graph/stats", verify=str(graph.ca_file), timeout=10).json()
    assert stats["throttled"] == {"contacts.delta": 1, "messages.delta": 1}


def test_faults_over_http_a_dropped_connection_and_an_expired_token(graph: FakeGraph, client: Client) -> None:
    faults = f"{graph.root_url}/_fake/graph/faults"
    added = client.session.post(
        faults,
        json=[
            {"kind": "drop", "operation": "contacts.delta"},
            {"kind": "token_expired", "operation": "masterCategories"},
        ],
        timeout=10,
    )
    assert added.status_code == 200 and len(client.session.get(faults, timeout=10).json()) == 2
    with pytest.raises(requests.ConnectionError):
        client.get(client.user() + "/contacts/delta")
    assert client.get(client.user() + "/outlook/masterCategories").status_code == 401
    assert client.get(client.user() + "/outlook/masterCategories").status_code == 200
    assert client.session.delete(faults, timeout=10).json() == {"cleared": True}


def test_requests_without_the_immutable_id_preference_are_counted(graph: FakeGraph, client: Client) -> None:
    client.get(client.user() + "/contacts/delta")
    assert graph.stats.missing_immutable_id == {}
    client.prefer = "odata.maxpagesize=10"
    client.get(client.user() + "/contacts/delta")
    client.get(client.user() + f"/calendarView/delta?{WINDOW}")
    assert graph.stats.to_json()["missing_immutable_id"] == {"contacts.delta": 1, "calendarView.delta": 1}
    assert graph.stats.to_json()["by_operation_mailbox"][f"contacts.delta {ALICE.email}"] == 2


def test_concurrent_requests_per_mailbox_and_overlapping_clients_are_recorded(graph: FakeGraph, client: Client) -> None:
    graph.faults.add("slow", operation="contacts.delta", delay_ms=300, times=3)
    barrier = threading.Barrier(3)
    answers: list[int] = []

    def call(worker: str) -> None:
        c = Client(graph)
        barrier.wait()
        answers.append(c.get(c.user() + "/contacts/delta", headers={"User-Agent": worker}).status_code)
        c.session.close()

    threads = [threading.Thread(target=call, args=(w,)) for w in ("worker-1", "worker-1", "worker-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200, 200, 200]
    assert graph.stats.max_concurrent[ALICE.email] == 3
    overlaps = client.session.get(f"{graph.root_url}/_fake/graph/overlaps", timeout=10).json()
    assert overlaps["clients"] == {"worker-1": {ALICE.email: 2}, "worker-2": {ALICE.email: 1}}
    assert overlaps["overlaps"] and {o["mailbox"] for o in overlaps["overlaps"]} == {ALICE.email}


def _batch(client: Client, requests_: list[dict[str, Any]]) -> requests.Response:
    return client.call("POST", "/$batch", json={"requests": requests_})


def test_series_masters_are_fetched_through_batch(client: Client) -> None:
    entries, _, _ = client.delta(client.user() + f"/calendarView/delta?{WINDOW}")
    masters = sorted({e["seriesMasterId"] for e in entries if e.get("seriesMasterId")})
    single = next(e["id"] for e in entries if e["type"] == "singleInstance")
    inner = [
        {
            "id": str(n),
            "method": "GET",
            "url": f"/users/{ALICE.email}/events/{mid}?$select=iCalUId,type",
            "headers": {"Prefer": 'IdType="ImmutableId"'},
        }
        for n, mid in enumerate([*masters, single])
    ]
    r = _batch(client, inner)
    assert r.status_code == 200
    by_id = {x["id"]: x for x in r.json()["responses"]}
    assert by_id["0"]["status"] == 200 and by_id["0"]["body"]["iCalUId"] == "uid-series"
    assert by_id["0"]["body"]["type"] == "seriesMaster"
    assert by_id["1"]["body"]["type"] == "singleInstance"
    assert client.graph.stats.operations["events.get"] == 2 and client.graph.stats.operations["batch"] == 1
    assert client.graph.stats.missing_immutable_id == {}


def test_batch_inner_requests_are_throttled_and_authorised_one_by_one(make_graph: GraphFactory) -> None:
    _, graph = make_graph(scope={ALICE.email})
    client = Client(graph)
    graph.faults.add("server_busy", operation="events.get", back_off_ms=2000)
    url = f"/users/{ALICE.email}/outlook/masterCategories"
    r = _batch(
        client,
        [
            {"id": "a", "method": "GET", "url": f"/users/{ALICE.email}/events/AAAA", "headers": {}},
            {"id": "b", "method": "GET", "url": url},
            {"id": "c", "method": "GET", "url": f"/users/{BOB.email}/outlook/masterCategories"},
        ],
    )
    by_id = {x["id"]: x for x in r.json()["responses"]}
    assert by_id["a"]["status"] == 429 and by_id["a"]["headers"]["Retry-After"] == "2"
    assert by_id["b"]["status"] == 200 and by_id["c"]["status"] == 403
    client.token = "made-up"
    refused = _batch(client, [{"id": "1", "method": "GET", "url": url}])
    assert refused.status_code == 401
    client.session.close()


def test_a_batch_of_more_than_twenty_is_a_bad_request(client: Client) -> None:
    inner = [
        {"id": str(n), "method": "GET", "url": f"/users/{ALICE.email}/outlook/masterCategories"} for n in range(21)
    ]
    r = _batch(client, inner)
    assert r.status_code == 400 and r.json()["error"]["code"] == "BadRequest"
    assert _batch(client, inner[:20]).status_code == 200


def test_a_request_body_over_four_megabytes_is_refused(client: Client) -> None:
    r = client.call(
        "POST",
        client.user() + "/outlook/masterCategories",
        data=b"x" * (4 * 1024 * 1024 + 1),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413
