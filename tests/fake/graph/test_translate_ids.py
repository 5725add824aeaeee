"""``POST /users/{u}/translateExchangeIds`` of the fake Graph: EWS ids of a mailbox's items -> their Graph ids.

Microsoft documents the call for delegated permissions only, and the fake's tokens are all an app's: it is
refused unless the FakeGraph is told to allow it. Tests of the translation itself allow it explicitly
(standing in for a delegated token, or a Graph that one day accepts app tokens)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from connector.fake.ews.server import FakeExchange
from connector.fake.graph.render import rest_id
from connector.fake.graph.server import FakeGraph
from connector.fake.mailbox import ItemRef, encode_item_id

from ..company import ALICE, BOB
from .conftest import Client, GraphFactory

PATH = "/translateExchangeIds"


@pytest.fixture
def served(make_graph: GraphFactory) -> tuple[FakeExchange, FakeGraph]:
    """A fake that translates for the app's token, as Graph would for a delegated one."""
    return make_graph(translate_ids_app_only=True)


def _translate(client: Client, ids: list[str], address: str = ALICE.email, **extra: Any) -> requests.Response:
    body = {"inputIds": ids, "sourceIdType": "ewsId", "targetIdType": "restImmutableEntryId", **extra}
    return client.call("POST", client.user(address) + PATH, json=body)


def test_ews_ids_of_live_items_are_translated_to_the_ids_graph_serves(exchange: FakeExchange, client: Client) -> None:
    mb = exchange.mailboxes[ALICE.email]
    ews_ids = [i for folder in ("contacts", "inbox", "calendar") for i, _ in mb.items(folder)]
    r = _translate(client, ews_ids)
    assert r.status_code == 200, r.text
    assert r.json()["value"] == [{"sourceId": i, "targetId": rest_id(i)} for i in ews_ids]
    served, _, _ = client.delta(client.user() + "/contacts/delta")
    assert {e["id"] for e in served} <= {v["targetId"] for v in r.json()["value"]}
    assert client.graph.stats.operations["translateExchangeIds"] == 1


def test_ids_of_deleted_items_other_mailboxes_or_no_item_at_all_are_left_out(
    exchange: FakeExchange, client: Client
) -> None:
    mb = exchange.mailboxes[ALICE.email]
    (gone, _), (kept, _) = list(mb.items("contacts"))[:2]
    mb.delete(gone)
    bobs = encode_item_id(ItemRef(exchange.mailboxes[BOB.email].number, "contacts", 0))  # Bob's, not Alice's
    never = encode_item_id(ItemRef(mb.number, "contacts", 99_999))
    r = _translate(client, [gone, kept, bobs, never, "not an id", "-" + kept[1:]])
    assert r.status_code == 200, r.text
    assert r.json()["value"] == [{"sourceId": kept, "targetId": rest_id(kept)}]


def test_more_than_a_thousand_ids_or_unknown_id_types_are_a_bad_request(client: Client) -> None:
    too_many = _translate(client, ["x"] * 1001)
    assert too_many.status_code == 400 and "at most 1000" in too_many.json()["error"]["message"]
    unknown = _translate(client, ["x"], sourceIdType="madeUpId")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "BadRequest"
    empty = _translate(client, [])
    assert empty.status_code == 400


def test_an_unknown_mailbox_is_graphs_invalid_user(client: Client) -> None:
    r = _translate(client, ["x"], address="nobody@contoso.example")
    assert r.status_code == 404 and r.json()["error"]["code"] == "ErrorInvalidUser"


def test_an_app_only_token_is_refused_as_graph_refuses_it_unless_the_fake_is_told_otherwise(
    make_graph: GraphFactory,
) -> None:
    exchange, graph = make_graph()  # translate_ids_app_only left at its default
    client = Client(graph)
    try:
        ews_ids = [i for i, _ in exchange.mailboxes[ALICE.email].items("contacts")]
        r = _translate(client, ews_ids)
        assert r.status_code == 403
        error = r.json()["error"]
        assert error["code"] == "ErrorAccessDenied" and "delegated permissions" in error["message"]
        graph.translate_ids_app_only = True
        assert _translate(client, ews_ids).status_code == 200
    finally:
        client.session.close()
