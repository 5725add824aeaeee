"""Writes through the fake Graph land in the mailboxes the EWS side serves: contact categories (with
If-Match and 412) and the master category list."""

from __future__ import annotations

from lxml import etree

from connector.fake.ews.server import FakeExchange
from connector.fake.graph.render import ews_id
from connector.fake.graph.server import FakeGraph
from connector.fake.userconfig import (
    CATEGORY_LIST,
    CATEGORY_LIST_FOLDER,
    CATEGORY_LIST_NS,
    UserConfig,
    category_list_xml,
)

from ..company import ALICE
from .conftest import Client


def _first_contact(client: Client) -> dict[str, object]:
    entries, _, _ = client.delta(client.user() + "/contacts/delta")
    return entries[0]


def test_patching_categories_changes_the_item_the_ews_side_serves(exchange: FakeExchange, client: Client) -> None:
    dana = _first_contact(client)
    r = client.call(
        "PATCH",
        client.user() + f"/contacts/{dana['id']}",
        json={"categories": ["Customer", "VIP"]},
        headers={"If-Match": str(dana["@odata.etag"])},
    )
    assert r.status_code == 200, r.text
    assert r.json()["categories"] == ["Customer", "VIP"] and r.json()["changeKey"] != dana["changeKey"]
    mb = exchange.mailbox_for(ALICE.email)
    assert mb is not None
    spec = mb.get(ews_id(str(dana["id"])))
    assert spec is not None and spec.fields["Categories"] == ("Customer", "VIP")
    assert mb.current_change_key(ews_id(str(dana["id"]))) == r.json()["changeKey"]
    assert exchange.stats.writes == {} and client.graph.stats.writes["update"] == 1


def test_a_stale_if_match_is_412_and_changes_nothing(exchange: FakeExchange, client: Client) -> None:
    dana = _first_contact(client)
    exchange.mailboxes[ALICE.email].update(ews_id(str(dana["id"])), JobTitle="Buyer")  # edited in Outlook meanwhile
    r = client.call(
        "PATCH",
        client.user() + f"/contacts/{dana['id']}",
        json={"categories": []},
        headers={"If-Match": str(dana["@odata.etag"])},
    )
    assert r.status_code == 412 and r.json()["error"]["code"] == "ErrorIrresolvableConflict"
    spec = exchange.mailboxes[ALICE.email].get(ews_id(str(dana["id"])))
    assert spec is not None and spec.fields["Categories"] == ("Customer",)
    fresh = client.get(client.user() + f"/contacts/{dana['id']}").json()
    again = client.call(
        "PATCH",
        client.user() + f"/contacts/{dana['id']}",
        json={"categories": []},
        headers={"If-Match": fresh["@odata.etag"]},
    )
    assert again.status_code == 200 and again.json()["categories"] == []


def test_the_conflict_fault_and_unknown_ids(graph: FakeGraph, client: Client) -> None:
    dana = _first_contact(client)
    graph.faults.add("conflict", operation="contacts.patch")
    path = client.user() + f"/contacts/{dana['id']}"
    assert client.call("PATCH", path, json={"categories": ["X"]}).status_code == 412
    assert client.call("PATCH", path, json={"categories": ["X"]}).status_code == 200
    client.graph.exchange.mailboxes[ALICE.email].delete(ews_id(str(dana["id"])))
    gone = client.call("PATCH", path, json={"categories": ["X"]})
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ErrorItemNotFound"
    # displayName is writable now (contact_write); a property the fake does not store is refused
    other = client.user() + f"/contacts/{_first_contact(client)['id']}"
    assert client.call("PATCH", other, json={"yomiSurname": "X"}).status_code == 400


def _ews_category_names(exchange: FakeExchange) -> list[str]:
    cfg = exchange.user_configs.get(exchange.mailboxes[ALICE.email].number, CATEGORY_LIST_FOLDER, CATEGORY_LIST)
    assert cfg is not None and cfg.xml_data is not None
    root = etree.fromstring(cfg.xml_data)
    return [el.get("name") for el in root.iter(f"{{{CATEGORY_LIST_NS}}}category")]


def test_master_categories_are_the_list_the_ews_side_keeps(exchange: FakeExchange, client: Client) -> None:
    path = client.user() + "/outlook/masterCategories"
    listed = client.get(path).json()["value"]
    assert [c["displayName"] for c in listed] == _ews_category_names(exchange)
    assert listed[0] == {"id": listed[0]["id"], "displayName": "Red category", "color": "preset0"}

    made = client.call("POST", path, json={"displayName": "relsync: Customer", "color": "preset9"})
    assert made.status_code == 201
    assert made.json()["displayName"] == "relsync: Customer" and made.json()["color"] == "preset9"
    assert _ews_category_names(exchange)[-1] == "relsync: Customer"
    dup = client.call("POST", path, json={"displayName": "RELSYNC: customer", "color": "none"})
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "Conflict"
    assert client.call("POST", path, json={"displayName": "x", "color": "purple"}).status_code == 400

    # written on the EWS side (UpdateUserConfiguration): Graph reads the same list
    number = exchange.mailboxes[ALICE.email].number
    exchange.user_configs.put(
        number,
        CATEGORY_LIST_FOLDER,
        CATEGORY_LIST,
        UserConfig(xml_data=category_list_xml([("Only one", -1)], ALICE.email)),
    )
    assert client.get(path).json()["value"] == [
        {"id": client.get(path).json()["value"][0]["id"], "displayName": "Only one", "color": "none"}
    ]
