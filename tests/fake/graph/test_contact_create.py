"""Creating and deleting contacts through the fake Graph, as Microsoft documents ``POST /users/{id}/contacts``
(201 with the contact; ``singleValueExtendedProperties`` set in the same body) and ``DELETE`` (204, then
404): the contact lands in the Contacts folder the EWS side serves, extended property included."""

from __future__ import annotations

from connector.fake.ews.server import FakeExchange
from connector.fake.graph.render import ews_id
from connector.graph.contacts_write import OUR_ID_PROPERTY, new_contact_body, our_id_in
from connector.writer import NewContact

from ..company import ALICE
from .conftest import Client


def test_a_posted_contact_is_201_stamped_and_in_the_mailbox_then_deleted_is_gone(
    exchange: FakeExchange, client: Client
) -> None:
    body = new_contact_body(
        NewContact(
            "relsync-ct-1",
            "Ada Quernby",
            given="Ada",
            surname="Quernby",
            emails=("ada@quernworks.example",),
            business_phones=("+442079460101",),
            company="Quernworks Ltd",
        )
    )
    r = client.call("POST", client.user() + "/contacts", json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["displayName"] == "Ada Quernby" and made["companyName"] == "Quernworks Ltd" and made["changeKey"]
    assert made["emailAddresses"][0]["address"] == "ada@quernworks.example"
    spec = exchange.mailboxes[ALICE.email].get(ews_id(str(made["id"])))
    assert spec is not None and spec.kind == "Contact"
    got = client.get(
        client.user() + f"/contacts/{made['id']}",
        params={"$expand": f"singleValueExtendedProperties($filter=id eq '{OUR_ID_PROPERTY}')"},
    ).json()
    assert our_id_in(got) == "relsync-ct-1"
    gone = client.call("DELETE", client.user() + f"/contacts/{made['id']}")
    assert gone.status_code == 204
    assert exchange.mailboxes[ALICE.email].get(ews_id(str(made["id"]))) is None
    again = client.call("DELETE", client.user() + f"/contacts/{made['id']}")
    assert again.status_code == 404 and again.json()["error"]["code"] == "ErrorItemNotFound"


def test_a_read_only_property_or_a_malformed_extended_property_is_400_and_creates_nothing(
    exchange: FakeExchange, client: Client
) -> None:
    before = sum(1 for _ in exchange.mailboxes[ALICE.email].items("contacts"))
    for body in (
        {"displayName": "X", "id": "AAMk"},
        {"displayName": "X", "singleValueExtendedProperties": [{"id": "String Name nonsense", "value": "v"}]},
        {"displayName": "X", "singleValueExtendedProperties": [{"id": OUR_ID_PROPERTY, "value": 5}]},
    ):
        r = client.call("POST", client.user() + "/contacts", json=body)
        assert r.status_code == 400, (body, r.text)
    assert sum(1 for _ in exchange.mailboxes[ALICE.email].items("contacts")) == before
