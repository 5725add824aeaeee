"""calendarView delta of the fake Graph: instances of series (exceptions, deleted occurrences), the window,
updates and deletions of series, and ids that stay put across pages and rounds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connector.fake.ews.server import FakeExchange
from connector.fake.graph.render import ews_id

from ..company import ALICE
from .conftest import Client

WINDOW = {"startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2026-12-31T00:00:00Z"}
WEEK = timedelta(weeks=1)


def _view(client: Client, page: int | None = None, params: dict[str, str] | None = None) -> tuple[list[Any], str]:
    entries, link, _ = client.delta(client.user() + "/calendarView/delta", page=page, params=params or WINDOW)
    return entries, link


def _series(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e.get("seriesMasterId")]


def _berlin_nine(week: int) -> datetime:
    """The original start of occurrence ``week`` (0-based): 09:00 Berlin, whatever the UTC offset."""
    return (datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Berlin")) + week * WEEK).astimezone(UTC)


def _z(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_series_comes_as_occurrences_and_its_exception_never_as_a_master(client: Client) -> None:
    entries, _ = _view(client)
    assert all(e["type"] != "seriesMaster" for e in entries)
    series = _series(entries)
    # six weekly occurrences, the third deleted, the second moved two hours later (an exception)
    assert [e["type"] for e in series] == ["occurrence", "exception", "occurrence", "occurrence", "occurrence"]
    originals = [_berlin_nine(n) for n in (0, 1, 3, 4, 5)]
    assert [e["originalStart"] for e in series] == [_z(o) for o in originals]
    moved = series[1]
    assert moved["subject"] == "Weekly sync (moved)"
    assert moved["start"] == {"dateTime": "2026-03-09T10:00:00.0000000", "timeZone": "UTC"}
    assert len({e["seriesMasterId"] for e in series}) == 1
    assert [e["iCalUId"] for e in series] == [f"uid-series-{o.strftime('%Y%m%dT%H%M%SZ')}" for o in originals]
    # 09:00 Berlin all along: 08:00Z in winter, 07:00Z after the change to summer time (29 March)
    assert [e["start"]["dateTime"][11:16] for e in series] == ["08:00", "10:00", "08:00", "07:00", "07:00"]
    assert {e["originalStartTimeZone"] for e in series} == {"W. Europe Standard Time"}
    assert series[0]["attendees"] == [
        {
            "type": "required",
            "status": {"response": "tentativelyAccepted", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": {"name": "Erin Estrada", "address": "erin@northwind.test"},
        }
    ]
    assert series[0]["organizer"]["emailAddress"]["address"] == ALICE.email and series[0]["isOrganizer"] is True


def test_singles_all_day_events_and_sensitivity(client: Client) -> None:
    entries, _ = _view(client)
    by_subject = {e["subject"]: e for e in entries if e["type"] == "singleInstance"}
    fair = by_subject["Trade fair"]
    assert fair["isAllDay"] is True and fair["showAs"] == "free"
    assert fair["start"] == {"dateTime": "2026-03-12T00:00:00.0000000", "timeZone": "UTC"}
    assert fair["end"] == {"dateTime": "2026-03-13T00:00:00.0000000", "timeZone": "UTC"}
    assert by_subject["Doctor"]["sensitivity"] == "private"
    review = by_subject["Quarterly review with Fabrikam"]
    assert review["iCalUId"] == "uid-single" and review["location"] == {"displayName": "Room 1"}
    assert review["start"]["dateTime"] == "2026-03-10T13:00:00.0000000" and review["categories"] == ["Customer"]


def test_the_window_is_required_and_cuts_the_series(client: Client) -> None:
    r = client.get(client.user() + "/calendarView/delta")
    assert r.status_code == 400 and r.json()["error"]["code"] == "BadRequest"
    narrow = {"startDateTime": "2026-03-20T00:00:00Z", "endDateTime": "2026-04-01T00:00:00Z"}
    entries, _ = _view(client, params=narrow)
    assert [e["originalStart"] for e in entries] == [_z(_berlin_nine(3)), _z(_berlin_nine(4))]


def test_small_pages_ending_inside_a_series_serve_the_same_instances(client: Client) -> None:
    whole, _ = _view(client, page=1000)
    paged, _ = _view(client, page=2)
    assert [e["id"] for e in paged] == [e["id"] for e in whole]
    assert len(whole) == 8


def test_changing_a_series_resends_its_instances_under_the_same_ids(exchange: FakeExchange, client: Client) -> None:
    entries, link = _view(client)
    series = _series(entries)
    mb = exchange.mailboxes[ALICE.email]
    master = ews_id(series[0]["seriesMasterId"])
    mb.update(master, Subject="Weekly sync (new agenda)")
    changed, _, _ = client.delta(link)
    live = [e for e in changed if "@removed" not in e]
    assert [e["id"] for e in live] == [e["id"] for e in series]
    assert [e["changeKey"] for e in live] != [e["changeKey"] for e in series]
    assert {e["subject"] for e in live if e["type"] == "occurrence"} == {"Weekly sync (new agenda)"}
    # the occurrence deleted before is reported removed again (harmless: the fake cannot know the client
    # never had it), under the id EWS gives that occurrence
    (gone,) = [e for e in changed if "@removed" in e]
    assert ews_id(gone["id"]) == mb.item_id("calendar", mb.resolve(master)[1].index, 3)


def test_deleting_an_occurrence_and_then_the_series_is_reported_as_removed(
    exchange: FakeExchange, client: Client
) -> None:
    entries, link = _view(client)
    series = _series(entries)
    mb = exchange.mailboxes[ALICE.email]
    master = ews_id(series[0]["seriesMasterId"])
    spec = mb.get(master)
    assert spec is not None
    # Outlook deletes the fourth occurrence: the series is updated with one more deleted occurrence
    fs, ref = mb.resolve(master)
    with mb.lock:
        fs.replace(ref.index, replace(spec, deleted_occurrences=(*spec.deleted_occurrences, _berlin_nine(3))))
    changed, link, _ = client.delta(link)
    removed = [e["id"] for e in changed if "@removed" in e]
    assert series[2]["id"] in removed
    assert [e["id"] for e in changed if "@removed" not in e] == [series[i]["id"] for i in (0, 1, 3, 4)]

    mb.delete(master)
    gone, _, _ = client.delta(link)
    assert gone == [{"id": series[i]["id"], "@removed": {"reason": "deleted"}} for i in (0, 1, 3, 4)]


def test_a_single_moved_out_of_the_window_is_removed(exchange: FakeExchange, client: Client) -> None:
    entries, link = _view(client)
    doctor = next(e for e in entries if e["subject"] == "Doctor")
    far = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
    exchange.mailboxes[ALICE.email].update(ews_id(doctor["id"]), Start=far, End=far + timedelta(hours=1))
    changed, _, _ = client.delta(link)
    assert changed == [{"id": doctor["id"], "@removed": {"reason": "deleted"}}]


def test_masters_are_read_by_id_with_the_series_uid(client: Client) -> None:
    entries, _ = _view(client)
    occurrence = _series(entries)[0]
    r = client.get(client.user() + f"/events/{occurrence['seriesMasterId']}", params={"$select": "iCalUId,type"})
    assert r.status_code == 200
    assert r.json()["iCalUId"] == "uid-series" and r.json()["type"] == "seriesMaster"
    assert set(r.json()) == {"@odata.etag", "id", "iCalUId", "type"}
    one = client.get(client.user() + f"/events/{occurrence['id']}").json()
    assert one["type"] == "occurrence" and one["iCalUId"] == occurrence["iCalUId"]
