"""The fake Graph's plain collections, query options, delta URL forms, contact PATCH, To Do delta, and the
refusals: each compared with what Microsoft Graph v1.0 documents.

- list messages: https://learn.microsoft.com/en-us/graph/api/user-list-messages
- list contacts: https://learn.microsoft.com/en-us/graph/api/user-list-contacts
- calendarView: https://learn.microsoft.com/en-us/graph/api/user-list-calendarview
- $filter, $select, $top, $skip, $count: https://learn.microsoft.com/en-us/graph/query-parameters
- paging: https://learn.microsoft.com/en-us/graph/paging
- contact update: https://learn.microsoft.com/en-us/graph/api/contact-update
- To Do delta: https://learn.microsoft.com/en-us/graph/api/todotask-delta
- errors: https://learn.microsoft.com/en-us/graph/errors
"""

from __future__ import annotations

from typing import Any

import pytest

from connector.fake.ews.server import FakeExchange
from connector.fake.graph.server import FakeGraph

from ..company import ALICE, DANA, ERIN
from .conftest import Client

WINDOW = {"startDateTime": "2026-03-01T00:00:00Z", "endDateTime": "2026-03-31T00:00:00Z"}


def _error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err: dict[str, Any] = r.json()["error"]
    assert err["code"] == code, err
    assert err["message"] and "request-id" in err["innerError"]
    return err


def _all(client: Client, path: str, **params: str) -> tuple[list[dict[str, Any]], int]:
    """Follow @odata.nextLink to the end: (entities, pages)."""
    out: list[dict[str, Any]] = []
    pages = 0
    url: str | None = path
    kw: dict[str, Any] = {"params": params}
    while url:
        r = client.get(url, **kw)
        assert r.status_code == 200, r.text
        body = r.json()
        out.extend(body["value"])
        pages += 1
        url = body.get("@odata.nextLink")
        kw = {}
    return out, pages


# --- delta URL forms and annotations -----------------------------------------------------------------


@pytest.mark.parametrize("form", ["delta", "delta()", "microsoft.graph.delta()", "microsoft.graph.delta"])
def test_every_delta_function_form_the_sdks_send_is_served(client: Client, form: str) -> None:
    """Graph's docs write ``/contacts/delta``; the SDKs call the function as ``delta()`` and OData allows
    the namespace-qualified ``microsoft.graph.delta()``: all name one function."""
    entries, link, _ = client.delta(client.user() + f"/contacts/{form}")
    assert sorted(e["displayName"] for e in entries) == ["Dana Dunn", "Erin Estrada", "Steve O'Neil & Sons"]
    again, _, _ = client.delta(link)
    assert again == []


def test_odata_annotations_in_a_body_are_accepted(client: Client) -> None:
    """The SDKs add ``@odata.type`` to every object they send, nested ones too."""
    contact = client.get(client.user() + "/contacts", params={"$filter": "displayName eq 'Dana Dunn'"}).json()
    cid = contact["value"][0]["id"]
    body = {
        "@odata.type": "#microsoft.graph.contact",
        "jobTitle": "Buyer",
        "emailAddresses": [{"@odata.type": "#microsoft.graph.emailAddress", "address": DANA.email}],
    }
    r = client.call("PATCH", client.user() + f"/contacts/{cid}", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["jobTitle"] == "Buyer"


# --- plain collections -------------------------------------------------------------------------------


def test_user_is_served_with_its_default_properties_and_select(client: Client) -> None:
    r = client.get(client.user())
    assert r.status_code == 200, r.text
    user = r.json()
    assert user["mail"] == ALICE.email and user["userPrincipalName"] == ALICE.email
    assert user["displayName"] == "Alice Archer" and user["givenName"] == "Alice" and user["surname"] == "Archer"
    by_id = client.get(f"/users/{user['id']}", params={"$select": "displayName"}).json()
    assert by_id["id"] == user["id"] and by_id["displayName"] == "Alice Archer" and "mail" not in by_id


def test_messages_lists_every_mail_folder_newest_first_paged_by_top(client: Client) -> None:
    """/messages is every message of the mailbox; ``$top`` is the page size, the rest by nextLink."""
    found, pages = _all(client, client.user() + "/messages", **{"$top": "2", "$select": "subject,receivedDateTime"})
    assert pages == 2
    assert [m["subject"] for m in found] == [
        "Our proposal",
        "Private: lunch?",
        "Re: Offer for Fabrikam",
        "Offer for Fabrikam",
    ]
    assert set(found[0]) == {"@odata.type", "@odata.etag", "id", "subject", "receivedDateTime"}


def test_mail_folder_messages_by_name_and_count(client: Client) -> None:
    r = client.get(client.user() + "/mailFolders/inbox/messages", params={"$count": "true", "$select": "subject"})
    body = r.json()
    assert r.status_code == 200 and body["@odata.count"] == 3 and len(body["value"]) == 3
    sent = client.get(client.user() + "/mailFolders/sentitems/messages").json()["value"]
    assert [m["subject"] for m in sent] == ["Our proposal"]


@pytest.mark.parametrize(
    ("expression", "subjects"),
    [
        ("isRead eq true", {"Re: Offer for Fabrikam", "Our proposal"}),
        ("isRead ne true", {"Offer for Fabrikam", "Private: lunch?"}),
        (f"from/emailAddress/address eq '{DANA.email.upper()}'", {"Offer for Fabrikam", "Re: Offer for Fabrikam"}),
        ("receivedDateTime ge 2026-03-02T11:00:00Z", {"Re: Offer for Fabrikam", "Private: lunch?", "Our proposal"}),
        ("receivedDateTime gt 2026-03-02T11:00:00Z and receivedDateTime lt 2026-03-02T13:00:00Z", {"Private: lunch?"}),
        ("receivedDateTime le 2026-03-02T10:00:00Z", {"Offer for Fabrikam"}),
        (
            "subject eq 'Our proposal' or (isRead eq false and importance eq 'normal')",
            {"Our proposal", "Offer for Fabrikam", "Private: lunch?"},
        ),
        ("not (isRead eq true)", {"Offer for Fabrikam", "Private: lunch?"}),
    ],
)
def test_filter_simple_forms_evaluate_as_documented(client: Client, expression: str, subjects: set[str]) -> None:
    found, _ = _all(client, client.user() + "/messages", **{"$filter": expression})
    assert {m["subject"] for m in found} == subjects


def test_contacts_list_filter_and_select(client: Client) -> None:
    found, _ = _all(
        client,
        client.user() + "/contacts",
        **{"$filter": "jobTitle eq 'CTO' or nickName eq 'Stephen'", "$select": "displayName"},
    )
    assert sorted(c["displayName"] for c in found) == ["Erin Estrada", "Steve O'Neil & Sons"]


def test_calendar_view_lists_instances_in_the_window_paged(client: Client) -> None:
    found, pages = _all(client, client.user() + "/calendarView", **WINDOW, **{"$top": "3"})
    every, _, _ = client.delta(client.user() + "/calendarView/delta", params=WINDOW)
    assert pages > 1
    assert sorted(e["id"] for e in found) == sorted(e["id"] for e in every if "@removed" not in e)
    starts = [e["start"]["dateTime"] for e in found]
    assert starts == sorted(starts)
    r = client.get(client.user() + "/calendarView")
    assert _error(r, 400, "BadRequest")["message"].startswith("This request requires a time window")


# --- contact PATCH ------------------------------------------------------------------------------------


def test_contact_patch_writes_every_stored_field(client: Client, exchange: FakeExchange) -> None:
    """contact-update: the given properties change, the others keep their values; null clears."""
    contacts = client.get(client.user() + "/contacts", params={"$filter": "displayName eq 'Erin Estrada'"}).json()
    cid = contacts["value"][0]["id"]
    body = {
        "givenName": "Erin",
        "surname": "Estrada-Lopez",
        "displayName": "Erin Estrada-Lopez",
        "jobTitle": None,
        "companyName": "Northwind Traders",
        "department": "IT",
        "personalNotes": "met at CeBIT",
        "emailAddresses": [{"address": ERIN.email, "name": "Erin"}, {"address": "erin@home.test"}],
        "businessPhones": ["+1 555 0100", "+1 555 0101"],
        "mobilePhone": None,
        "homePhones": ["+1 555 0199"],
        "homeAddress": {"street": "1 Main St", "city": "Seattle", "countryOrRegion": "USA", "postalCode": "98101"},
        "businessAddress": None,
        "birthday": "1980-05-17T00:00:00Z",
        "categories": ["Customer"],
    }
    r = client.call("PATCH", client.user() + f"/contacts/{cid}", json=body)
    assert r.status_code == 200, r.text
    got = client.get(client.user() + f"/contacts/{cid}").json()
    assert got["surname"] == "Estrada-Lopez" and got["displayName"] == "Erin Estrada-Lopez"
    assert got["jobTitle"] is None and got["companyName"] == "Northwind Traders" and got["department"] == "IT"
    assert got["personalNotes"] == "met at CeBIT"
    assert [e["address"] for e in got["emailAddresses"]] == [ERIN.email, "erin@home.test"]
    assert got["businessPhones"] == ["+1 555 0100", "+1 555 0101"] and got["homePhones"] == ["+1 555 0199"]
    assert got["mobilePhone"] is None
    assert got["homeAddress"]["city"] == "Seattle" and got["businessAddress"] == {}
    assert got["birthday"] == "1980-05-17T00:00:00Z" and got["categories"] == ["Customer"]
    assert got["givenName"] == "Erin" and got["fileAs"] == "Estrada, Erin"  # untouched
    # the same item over EWS
    spec = exchange.mailboxes[ALICE.email].get(got["id"].replace("-", "/").replace("_", "+"))
    assert spec is not None and spec.fields["CompanyName"] == "Northwind Traders"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"yomiSurname": "x"}, "does not store"),
        ({"changeKey": "x"}, "read-only"),
        ({"favouriteColour": "blue"}, "does not exist"),
        ({"emailAddresses": [{"address": f"a{i}@x.test"} for i in range(4)]}, "at most 3"),
        ({"jobTitle": 7}, "must be a string"),
    ],
)
def test_contact_patch_refuses_what_it_cannot_write(client: Client, body: dict[str, Any], words: str) -> None:
    cid = client.get(client.user() + "/contacts").json()["value"][0]["id"]
    before = client.get(client.user() + f"/contacts/{cid}").json()
    err = _error(client.call("PATCH", client.user() + f"/contacts/{cid}", json=body), 400, "BadRequest")
    assert words in err["message"]
    assert client.get(client.user() + f"/contacts/{cid}").json()["changeKey"] == before["changeKey"]


# --- To Do delta --------------------------------------------------------------------------------------


def test_todo_tasks_delta_to_the_end_and_again(client: Client) -> None:
    lists = client.get(client.user() + "/todo/lists").json()["value"]
    tasks = client.user() + f"/todo/lists/{lists[0]['id']}/tasks"
    entries, link, pages = client.delta(tasks + "/delta()", page=1)
    assert pages == 2 and sorted(t["title"] for t in entries) == ["Call Dana about renewal", "Send brochure"]
    new = client.call("POST", tasks, json={"title": "Ring Erin"}).json()
    client.call("DELETE", f"{tasks}/{entries[1]['id']}")
    changed, link2, _ = client.delta(link)
    assert [t.get("title") for t in changed if "@removed" not in t] == ["Ring Erin"]
    assert [t["id"] for t in changed if "@removed" in t] == [entries[1]["id"]]
    assert new["id"] in {t["id"] for t in changed}
    assert client.delta(link2)[0] == []


# --- refusals and bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/messages", {"$search": '"fabrikam"'}),
        ("/messages", {"$orderby": "subject"}),
        ("/messages", {"$expand": "attachments"}),
        ("/contacts", {"$apply": "groupby((companyName))"}),
        ("/calendarView", {**WINDOW, "$orderby": "start/dateTime"}),
        ("/contacts/delta", {"$filter": "displayName eq 'x'"}),
        ("/mailFolders/inbox/messages/delta", {"$orderby": "receivedDateTime desc"}),
        ("/mailFolders/inbox/messages/delta", {"$top": "5"}),
    ],
)
def test_a_query_option_the_fake_does_not_evaluate_is_refused(
    client: Client, path: str, params: dict[str, str]
) -> None:
    err = _error(client.get(client.user() + path, params=params), 400, "ErrorInvalidUrlQuery")
    assert next(k for k in params if k.startswith("$")) in err["message"]


def test_todo_tasks_honour_select_and_refuse_what_they_do_not_evaluate(client: Client) -> None:
    """todotasklist-list-tasks (https://learn.microsoft.com/en-us/graph/api/todotasklist-list-tasks):
    ``$select`` narrows each task (relsync's writer asks for four properties); ``$filter``/``$orderby``
    the fake does not evaluate are refused, not ignored."""
    list_id = client.get(client.user() + "/todo/lists").json()["value"][0]["id"]
    tasks = client.user() + f"/todo/lists/{list_id}/tasks"
    r = client.get(tasks, params={"$select": "id,title,status", "$expand": "linkedResources"}, page=1)
    body = r.json()
    assert r.status_code == 200 and set(body["value"][0]) == {"@odata.etag", "id", "title", "status", "linkedResources"}
    nxt = client.get(body["@odata.nextLink"]).json()["value"][0]
    assert set(nxt) == {"@odata.etag", "id", "title", "status", "linkedResources"}
    assert client.get(f"{tasks}/{nxt['id']}", params={"$select": "title"}).json().keys() == {
        "@odata.etag",
        "id",
        "title",
    }
    for option in ({"$filter": "status eq 'completed'"}, {"$orderby": "title"}, {"$top": "1"}):
        _error(client.get(tasks, params=option), 400, "ErrorInvalidUrlQuery")


def test_single_items_and_master_categories_refuse_unevaluated_options(client: Client) -> None:
    cid = client.get(client.user() + "/contacts").json()["value"][0]["id"]
    _error(client.get(client.user() + f"/contacts/{cid}", params={"$search": "x"}), 400, "ErrorInvalidUrlQuery")
    _error(client.get(client.user() + "/outlook/masterCategories", params={"$top": "1"}), 400, "ErrorInvalidUrlQuery")
    _error(client.get(client.user(), params={"$expand": "manager"}), 400, "ErrorInvalidUrlQuery")


@pytest.mark.parametrize(
    "expression",
    [
        "startswith(subject,'Offer')",
        "contains(subject,'Offer')",
        "toRecipients/any(r:r/emailAddress/address eq 'x')",
        "importance in ('high','low')",
        "subject eq displayName",
    ],
)
def test_a_filter_the_fake_cannot_evaluate_is_refused(client: Client, expression: str) -> None:
    _error(client.get(client.user() + "/messages", params={"$filter": expression}), 400, "ErrorInvalidUrlQueryFilter")


@pytest.mark.parametrize("expression", ["isRead eq", "(isRead eq true", "isRead equals true", "eq true", "'x' eq"])
def test_a_filter_it_cannot_parse_gets_graphs_error_and_the_fake_keeps_serving(client: Client, expression: str) -> None:
    err = _error(client.get(client.user() + "/messages", params={"$filter": expression}), 400, "BadRequest")
    assert "filter" in err["message"].lower()
    assert client.get(client.user() + "/messages").status_code == 200


def test_a_filter_on_an_unknown_property_is_refused(client: Client) -> None:
    err = _error(client.get(client.user() + "/messages", params={"$filter": "colour eq 'red'"}), 400, "BadRequest")
    assert "colour" in err["message"]


@pytest.mark.parametrize("top", ["-1", "ten"])
def test_a_bad_top_is_refused(client: Client, top: str) -> None:
    err = _error(client.get(client.user() + "/contacts", params={"$top": top}), 400, "BadRequest")
    assert "'$top'" in err["message"]


def test_malformed_json_gets_graphs_error_and_the_fake_keeps_serving(client: Client, graph: FakeGraph) -> None:
    cid = client.get(client.user() + "/contacts").json()["value"][0]["id"]
    r = client.call(
        "PATCH",
        client.user() + f"/contacts/{cid}",
        data=b'{"categories": [',
        headers={"Content-Type": "application/json"},
    )
    err = _error(r, 400, "BadRequest")
    assert err["message"].startswith("Unable to read JSON request payload")
    r = client.call("POST", client.user() + "/outlook/masterCategories", data=b"not json")
    _error(r, 400, "BadRequest")
    r = client.call(
        "POST",
        client.user() + "/outlook/masterCategories",
        json={"@odata.type": "#microsoft.graph.outlookCategory", "displayName": "X", "colour": "red"},
    )
    assert "'colour'" in _error(r, 400, "BadRequest")["message"]
    assert client.get(client.user() + "/contacts").status_code == 200


# --- a mail folder (https://learn.microsoft.com/en-us/graph/api/mailfolder-get) ------------------------


def test_a_mail_folder_counts_the_items_its_delta_serves(client: Client) -> None:
    """``totalItemCount`` is every item of the folder (what a delta from scratch brings), ``unreadItemCount``
    those not read; ``$select`` leaves the rest out (``id`` stays, as Graph always sends it)."""
    entries, _, _ = client.delta(client.user() + "/mailFolders/inbox/messages/delta")
    r = client.get(client.user() + "/mailFolders/inbox")
    assert r.status_code == 200, r.text
    folder = r.json()
    assert folder["displayName"] == "Inbox"
    assert folder["totalItemCount"] == len(entries) > 0
    assert folder["unreadItemCount"] == sum(1 for e in entries if not e["isRead"])
    assert folder["childFolderCount"] == 0
    assert all(e["parentFolderId"] == folder["id"] for e in entries)

    r = client.get(client.user() + "/mailFolders/sentitems", params={"$select": "totalItemCount"})
    assert r.status_code == 200, r.text
    assert {k for k in r.json() if not k.startswith("@odata.")} == {"id", "totalItemCount"}


def test_a_mail_folder_refuses_an_unknown_property_and_an_unknown_folder(client: Client) -> None:
    _error(client.get(client.user() + "/mailFolders/inbox", params={"$select": "size"}), 400, "BadRequest")
    _error(client.get(client.user() + "/mailFolders/AAAAnotafolder"), 404, "ErrorInvalidIdMalformed")
