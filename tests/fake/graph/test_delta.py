"""Contacts and messages delta of the fake Graph: paging, resuming from a deltaLink, @removed, 410."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from connector.fake.graph.render import ews_id
from connector.fake.graph.server import FakeGraph
from connector.fake.model import ExtendedProp, ItemSpec

from ..company import ALICE, BOB, DANA, ERIN, BulkCompany, contact, message
from .conftest import Client, GraphFactory

SENSITIVITY = "Integer 0x0036"
SOURCE = "String {00020329-0000-0000-C000-000000000046} Name Source"
EXPAND = f"singleValueExtendedProperties($filter=id eq '{SENSITIVITY}' or id eq '{SOURCE}')"
MESSAGE_EXPAND = (
    "singleValueExtendedProperties($filter=id eq 'Integer 0x0036' or id eq 'Integer 0x0E08' or id eq 'String 0x001A')"
)


def _names(entries: list[dict[str, object]]) -> list[object]:
    return [e.get("displayName") for e in entries if "@removed" not in e]


def test_contacts_delta_pages_to_the_end_and_leaves_out_distribution_lists(
    exchange: FakeExchange, client: Client
) -> None:
    mb = exchange.mailboxes[ALICE.email]
    mb.create("contacts", ItemSpec("DistributionList", {"DisplayName": "Fabrikam team"}))
    entries, delta_link, pages = client.delta(client.user() + "/contacts/delta", page=2)
    expected = [spec.fields["DisplayName"] for _, spec in mb.items("contacts") if spec.kind == "Contact"]
    assert _names(entries) == expected
    assert pages == 2  # three contacts and a list, two a page
    assert "$deltatoken=" in delta_link and delta_link.startswith(client.graph.base_url)
    first = entries[0]
    assert first["@odata.etag"] == f'W/"{first["changeKey"]}"'
    assert first["emailAddresses"] == [{"name": "Dana Dunn", "address": DANA.email}]
    assert first["businessPhones"] == ["+49 30 1234001"] and first["mobilePhone"] == "+49 170 555001"
    assert first["businessAddress"]["city"] == "Berlin" and first["homeAddress"] == {}
    assert first["parentFolderId"] and first["createdDateTime"].endswith("Z")


def test_a_delta_link_resumes_with_what_changed_since(exchange: FakeExchange, client: Client) -> None:
    mb = exchange.mailboxes[ALICE.email]
    entries, delta_link, _ = client.delta(client.user() + "/contacts/delta")
    by_name = {e["displayName"]: e for e in entries}
    new_id = mb.create("contacts", contact(9, "Gina Gold", "gina@gold.test"))
    mb.update(ews_id(by_name["Erin Estrada"]["id"]), JobTitle="CEO")
    mb.delete(ews_id(by_name["Dana Dunn"]["id"]))

    changes, delta_link2, _ = client.delta(delta_link)
    gina = next(e for e in changes if e.get("displayName") == "Gina Gold")
    assert ews_id(gina["id"]) == new_id and gina["emailAddresses"][0]["address"] == "gina@gold.test"
    erin = next(e for e in changes if e.get("displayName") == "Erin Estrada")
    assert erin["jobTitle"] == "CEO" and erin["changeKey"] != by_name["Erin Estrada"]["changeKey"]
    assert {"id": by_name["Dana Dunn"]["id"], "@removed": {"reason": "deleted"}} in changes
    assert len(changes) == 3

    nothing, _, _ = client.delta(delta_link2)
    assert nothing == []


def test_select_and_expand_give_the_asked_properties_and_extended_ones(exchange: FakeExchange, client: Client) -> None:
    mb = exchange.mailboxes[ALICE.email]
    mb.create(
        "contacts",
        contact(
            7,
            "Hugo Hart",
            "hugo@hart.test",
            ExtendedProperty=(
                ExtendedProp("String", "Trade fair", distinguished_set_id="PublicStrings", property_name="Source"),
            ),
        ),
    )
    params = {"$select": "displayName,categories", "$expand": EXPAND}
    entries, _, _ = client.delta(client.user() + "/contacts/delta", params=params, page=1)
    by_name = {e["displayName"]: e for e in entries}
    assert set(by_name["Dana Dunn"]) == {
        "@odata.etag",
        "id",
        "displayName",
        "categories",
        "singleValueExtendedProperties",
    }
    assert by_name["Erin Estrada"]["singleValueExtendedProperties"] == [{"id": "Integer 0x36", "value": "2"}]
    hugo = {p["id"].lower(): p["value"] for p in by_name["Hugo Hart"]["singleValueExtendedProperties"]}
    assert hugo == {"integer 0x36": "0", SOURCE.lower(): "Trade fair"}


def test_an_unknown_select_property_is_a_bad_request(client: Client) -> None:
    r = client.get(client.user() + "/contacts/delta", params={"$select": "displayName,shoeSize"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "BadRequest" and "shoeSize" in r.json()["error"]["message"]
    assert set(r.json()["error"]["innerError"]) >= {"request-id", "date"}


def test_messages_delta_serves_inbox_and_sent_items_with_meeting_requests_as_event_messages(
    exchange: FakeExchange, client: Client
) -> None:
    mb = exchange.mailboxes[ALICE.email]
    request = message(30, "Invitation: kickoff", DANA, (ALICE,))
    mb.create("inbox", ItemSpec("MeetingRequest", {**request.fields, "ItemClass": "IPM.Schedule.Meeting.Request"}))
    params = {
        "$select": "id,changeKey,subject,from,toRecipients,ccRecipients,receivedDateTime,sentDateTime",
        "$expand": MESSAGE_EXPAND,
    }
    inbox, _, _ = client.delta(client.user() + "/mailFolders/inbox/messages/delta", params=params)
    sent, _, _ = client.delta(client.user() + "/mailFolders/SentItems/messages/delta", params=params)
    assert [m["subject"] for m in sent] == ["Our proposal"]
    subjects = [m["subject"] for m in inbox]
    assert subjects == [spec.fields["Subject"] for _, spec in mb.items("inbox")]
    reply = inbox[1]
    assert reply["@odata.type"] == "#microsoft.graph.message"
    assert reply["ccRecipients"] == [{"emailAddress": {"name": ERIN.name, "address": ERIN.email}}]
    assert [r["emailAddress"]["address"] for r in reply["toRecipients"]] == [ALICE.email, BOB.email]
    assert reply["receivedDateTime"] == "2026-03-02T11:00:00Z"
    props = {p["id"]: p["value"] for p in inbox[2]["singleValueExtendedProperties"]}
    assert props["Integer 0x36"] == "2" and props["String 0x1a"] == "IPM.Note" and int(props["Integer 0xe08"]) > 0
    invitation = inbox[-1]
    assert invitation["@odata.type"] == "#microsoft.graph.eventMessage"
    assert {p["id"]: p["value"] for p in invitation["singleValueExtendedProperties"]}["String 0x1a"] == (
        "IPM.Schedule.Meeting.Request"
    )


def test_invalidated_sync_states_make_old_links_gone(exchange: FakeExchange, client: Client) -> None:
    first = client.get(client.user() + "/contacts/delta", page=1).json()
    _, delta_link, _ = client.delta(client.user() + "/contacts/delta")
    exchange.mailboxes[ALICE.email].invalidate_sync_states("contacts")
    for link in (first["@odata.nextLink"], delta_link):
        r = client.get(link)
        assert r.status_code == 410
        assert r.json()["error"]["code"] == "SyncStateNotFound"
    fresh, _, _ = client.delta(client.user() + "/contacts/delta")
    assert len(fresh) == 3


def test_a_forged_or_foreign_token_is_gone_too(client: Client) -> None:
    _, delta_link, _ = client.delta(client.user() + "/contacts/delta")
    token = parse_qs(urlsplit(delta_link).query)["$deltatoken"][0]
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert client.get(client.user() + f"/contacts/delta?$deltatoken={forged}").status_code == 410
    other = client.get(client.user(BOB.email) + f"/contacts/delta?$deltatoken={token}")
    assert other.status_code == 410


def test_the_invalid_sync_state_fault_answers_the_next_token_request_with_410(graph: FakeGraph, client: Client) -> None:
    _, delta_link, _ = client.delta(client.user() + "/mailFolders/inbox/messages/delta")
    graph.faults.add("invalid_sync_state", operation="messages.delta")
    assert client.get(client.user() + "/mailFolders/inbox/messages/delta").status_code == 200  # no token: fine
    assert client.get(delta_link).status_code == 410
    assert client.get(delta_link).status_code == 200


def test_twenty_thousand_messages_page_through_in_a_thousand_a_page(make_graph: GraphFactory) -> None:
    _, graph = make_graph(BulkCompany(n=20_000))
    c = Client(graph)
    entries, _, pages = c.delta(
        c.user() + "/mailFolders/inbox/messages/delta", page=1000, params={"$select": "id,subject,categories"}
    )
    assert pages == 20 and len(entries) == 20_000
    assert len({e["id"] for e in entries}) == 20_000
    assert entries[-1]["subject"] == "Message 19999: quarterly numbers"
    c.session.close()


def test_every_folder_of_a_generated_company_pages_through(make_graph: GraphFactory) -> None:
    ex, graph = make_graph(build_company(7, 2, "tiny"))
    c = Client(graph)
    address = next(iter(ex.mailboxes))
    mb = ex.mailboxes[address]
    expand = {"$expand": MESSAGE_EXPAND}
    for folder in ("inbox", "sentitems"):
        entries, _, _ = c.delta(c.user(address) + f"/mailFolders/{folder}/messages/delta", page=500, params=expand)
        assert len(entries) == mb.folders[folder].count() > 0
        assert all(e["internetMessageId"] and e["from"] for e in entries)
    contacts, _, _ = c.delta(c.user(address) + "/contacts/delta", page=500)
    assert len(contacts) == sum(1 for _, s in mb.items("contacts") if s.kind == "Contact") > 0
    window = {"startDateTime": "2025-11-23T00:00:00Z", "endDateTime": "2027-05-22T00:00:00Z"}
    events, _, _ = c.delta(c.user(address) + "/calendarView/delta", page=500, params=window)
    assert events and all(e["type"] in ("singleInstance", "occurrence", "exception") for e in events)
    assert len({e["id"] for e in events}) == len(events)
    tasks = c.get(
        c.user(address) + f"/todo/lists/{c.get(c.user(address) + '/todo/lists').json()['value'][0]['id']}/tasks",
        page=1000,
    ).json()["value"]
    assert len(tasks) == mb.folders["tasks"].count()
    c.session.close()
