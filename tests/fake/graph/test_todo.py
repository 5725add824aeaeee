"""Microsoft To Do on the fake Graph: the default list is the Tasks folder the EWS side serves."""

from __future__ import annotations

from datetime import date
from typing import Any

from exchangelib import Account

from connector.fake.ews.server import FakeExchange
from connector.fake.graph.render import ews_id
from connector.fake.graph.server import FakeGraph

from ..company import ALICE
from ..conftest import AccountFactory, ServerFactory
from .conftest import TOKEN, Client

FOLLOW_UP: dict[str, Any] = {
    "title": "Call Dana back about the renewal",
    "body": {"content": "She asked for the new price list.", "contentType": "text"},
    "importance": "high",
    "status": "notStarted",
    "categories": ["relsync"],
    "dueDateTime": {"dateTime": "2026-11-30T00:00:00.0000000", "timeZone": "Europe/Berlin"},
    "isReminderOn": True,
    "reminderDateTime": {"dateTime": "2026-11-30T08:00:00.0000000", "timeZone": "Europe/Berlin"},
    "linkedResources": [
        {
            "applicationName": "relsync",
            "displayName": "relsync follow-up",
            "externalId": "fu-42",
            "webUrl": "https://relsync.example/f/42",
        }
    ],
}


def _tasks_path(client: Client) -> str:
    lists = client.get(client.user() + "/todo/lists").json()["value"]
    (default,) = [lst for lst in lists if lst["wellknownListName"] == "defaultList"]
    assert default["displayName"] == "Tasks" and default["isOwner"] is True and default["isShared"] is False
    return client.user() + f"/todo/lists/{default['id']}/tasks"


def test_a_created_task_is_an_item_of_the_ews_tasks_folder(exchange: FakeExchange, client: Client) -> None:
    path = _tasks_path(client)
    r = client.call("POST", path, json=FOLLOW_UP)
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["title"] == FOLLOW_UP["title"] and task["status"] == "notStarted" and task["importance"] == "high"
    assert task["dueDateTime"] == {"dateTime": "2026-11-30T00:00:00.0000000", "timeZone": "UTC"}
    assert task["reminderDateTime"] == {"dateTime": "2026-11-30T07:00:00.0000000", "timeZone": "UTC"}
    assert task["linkedResources"][0]["externalId"] == "fu-42" and task["linkedResources"][0]["id"]
    spec = exchange.mailboxes[ALICE.email].get(ews_id(task["id"]))
    assert spec is not None and spec.kind == "Task"
    assert spec.fields["Subject"] == FOLLOW_UP["title"] and spec.fields["Importance"] == "High"
    assert spec.fields["DueDate"].date() == date(2026, 11, 30) and spec.fields["ReminderIsSet"] is True
    assert spec.fields["Categories"] == ("relsync",)


def test_tasks_are_listed_in_pages_with_linked_resources_and_read_one_by_one(client: Client) -> None:
    path = _tasks_path(client)
    made = client.call("POST", path, json=FOLLOW_UP).json()
    seen: list[dict[str, Any]] = []
    url = path + "?$expand=linkedResources"
    while url:
        body = client.get(url, page=2).json()
        seen.extend(body["value"])
        url = body.get("@odata.nextLink", "")
    # the two tasks the mailbox had (made in Outlook, over EWS) and ours
    assert [t["title"] for t in seen] == ["Call Dana about renewal", "Send brochure", FOLLOW_UP["title"]]
    assert seen[1]["status"] == "completed" and seen[1]["completedDateTime"]["dateTime"].startswith("2026-03-01")
    assert seen[0]["linkedResources"] == [] and seen[2]["linkedResources"][0]["externalId"] == "fu-42"
    one = client.get(path + f"/{made['id']}")
    assert one.status_code == 200 and one.json()["title"] == FOLLOW_UP["title"] and "linkedResources" not in one.json()


def test_completing_and_deleting_a_task(exchange: FakeExchange, client: Client) -> None:
    path = _tasks_path(client)
    made = client.call("POST", path, json=FOLLOW_UP).json()
    done = client.call("PATCH", path + f"/{made['id']}", json={"status": "completed", "categories": []})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and "completedDateTime" in done.json()
    spec = exchange.mailboxes[ALICE.email].get(ews_id(made["id"]))
    assert spec is not None
    status = (spec.fields["Status"], spec.fields["IsComplete"], spec.fields["PercentComplete"])
    assert status == ("Completed", True, 100)
    assert spec.extra["linked_resources"][0]["externalId"] == "fu-42"  # kept across the update
    assert client.call("DELETE", path + f"/{made['id']}").status_code == 204
    gone = client.get(path + f"/{made['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ErrorItemNotFound"
    assert exchange.mailboxes[ALICE.email].get(ews_id(made["id"])) is None


def test_a_stale_if_match_on_a_task_is_412(client: Client) -> None:
    path = _tasks_path(client)
    made = client.call("POST", path, json=FOLLOW_UP).json()
    client.call("PATCH", path + f"/{made['id']}", json={"title": "renamed"})
    stale = client.call(
        "PATCH", path + f"/{made['id']}", json={"status": "completed"}, headers={"If-Match": made["@odata.etag"]}
    )
    assert stale.status_code == 412


def test_a_task_made_over_graph_is_served_by_ews_within_the_schema(
    make_server: ServerFactory, account_for: AccountFactory
) -> None:
    ex = make_server()  # validates every EWS response against Microsoft's schema
    with FakeGraph(ex, tokens={TOKEN}) as graph:
        client = Client(graph)
        made = client.call("POST", _tasks_path(client), json=FOLLOW_UP).json()
        client.session.close()
    alice: Account = account_for(ex)
    subjects = {t.subject: t for t in alice.tasks.all()}
    task = subjects[FOLLOW_UP["title"]]
    assert task.importance == "High" and task.categories == ["relsync"] and task.status == "NotStarted"
    assert ews_id(made["id"]) == task.id
