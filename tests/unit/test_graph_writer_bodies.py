"""The Graph writer's pure pieces: colours, etags, To Do request bodies and answers read back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from connector.graph.write_bodies import (
    change_key_of,
    colour_name,
    completed_body,
    etag,
    found_task,
    missing_master_categories,
    new_task_body,
    our_id_of,
    parse_graph_datetime,
    task_patch,
    task_state,
)
from connector.writer import NewTask, TaskChange, TaskState


# --- master categories --------------------------------------------------------------------------
@pytest.mark.parametrize(("index", "name"), [(-1, "none"), (0, "preset0"), (7, "preset7"), (24, "preset24")])
def test_outlook_colour_indexes_become_graph_presets(index: int, name: str) -> None:
    assert colour_name(index) == name


@pytest.mark.parametrize("index", [-2, 25, 100])
def test_a_colour_outside_outlooks_range_is_refused(index: int) -> None:
    with pytest.raises(ValueError, match="colour"):
        colour_name(index)


def test_missing_master_categories_compare_names_case_insensitively_and_keep_order() -> None:
    wanted = [("Customer", 7), ("Vendor", 5), ("vendor", 3), ("Value: Superior", 4)]
    assert missing_master_categories(["customer", "Red category"], wanted) == [("Vendor", 5), ("Value: Superior", 4)]
    assert missing_master_categories(["CUSTOMER", "VENDOR", "value: superior"], wanted) == []


def test_an_empty_category_name_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        missing_master_categories([], [("  ", 1)])


# --- etags --------------------------------------------------------------------------------------
def test_if_match_is_the_weak_etag_of_the_change_key() -> None:
    assert etag("CQAAABYAAA") == 'W/"CQAAABYAAA"'
    assert etag('W/"CQAAABYAAA"') == 'W/"CQAAABYAAA"'
    assert etag(None) is None and etag("") is None


def test_the_change_key_comes_from_the_contact_or_its_etag() -> None:
    assert change_key_of({"changeKey": "K1", "@odata.etag": 'W/"K0"'}) == "K1"
    assert change_key_of({"@odata.etag": 'W/"K2"'}) == "K2"
    assert change_key_of({"id": "x"}) is None


# --- new tasks ----------------------------------------------------------------------------------
def _task(reminder: datetime | None) -> NewTask:
    return NewTask(
        "fu-42", "Call Dana", "Last contact: 3 weeks ago", date(2026, 11, 30), reminder, "High", ("Follow-up",)
    )


def test_a_new_task_carries_our_id_as_a_linked_resource_and_the_due_date_at_utc_midnight() -> None:
    berlin = timezone(timedelta(hours=1))
    body = new_task_body(_task(datetime(2026, 11, 30, 9, 0, tzinfo=berlin)))
    assert body["title"] == "Call Dana"
    assert body["body"] == {"content": "Last contact: 3 weeks ago", "contentType": "text"}
    assert body["importance"] == "high" and body["status"] == "notStarted"
    assert body["categories"] == ["Follow-up"]
    assert body["dueDateTime"] == {"dateTime": "2026-11-30T00:00:00.0000000", "timeZone": "UTC"}
    assert body["isReminderOn"] is True
    assert body["reminderDateTime"] == {"dateTime": "2026-11-30T08:00:00.0000000", "timeZone": "UTC"}
    assert body["linkedResources"] == [
        {"applicationName": "relsync", "displayName": "relsync follow-up", "externalId": "fu-42"}
    ]
    assert our_id_of(body) == "fu-42"


def test_a_new_task_without_reminder_has_it_off() -> None:
    body = new_task_body(_task(None))
    assert body["isReminderOn"] is False and "reminderDateTime" not in body


# --- changes ------------------------------------------------------------------------------------
def test_an_update_patches_only_the_fields_it_changes() -> None:
    change = TaskChange(
        "T1",
        None,
        subject="Call Dana again",
        due=date(2026, 12, 7),
        reminder_at=datetime(2026, 12, 7, 8, 30, tzinfo=UTC),
        importance="Normal",
    )
    assert task_patch(change) == {
        "title": "Call Dana again",
        "dueDateTime": {"dateTime": "2026-12-07T00:00:00.0000000", "timeZone": "UTC"},
        "isReminderOn": True,
        "reminderDateTime": {"dateTime": "2026-12-07T08:30:00.0000000", "timeZone": "UTC"},
        "importance": "normal",
    }
    assert task_patch(TaskChange("T1", None, importance="Low")) == {"importance": "low"}


def test_completing_adds_the_note_below_the_current_body_and_turns_the_reminder_off() -> None:
    patch = task_patch(TaskChange("T1", None, complete_note="Done: met at the fair."), "Last contact: May")
    assert patch == {
        "status": "completed",
        "body": {"content": "Last contact: May\n\nDone: met at the fair.", "contentType": "text"},
        "isReminderOn": False,
    }
    assert completed_body("", "Done.") == "Done."
    assert completed_body("  \n", "Done.") == "Done."


# --- answers read back --------------------------------------------------------------------------
def test_our_id_is_read_only_from_relsyncs_own_linked_resource() -> None:
    assert (
        our_id_of(
            {
                "linkedResources": [
                    {"applicationName": "Teams", "externalId": "other"},
                    {"applicationName": "relsync", "externalId": "fu-7"},
                ]
            }
        )
        == "fu-7"
    )
    assert our_id_of({"linkedResources": [{"applicationName": "Teams", "externalId": "fu-7"}]}) is None
    assert our_id_of({"linkedResources": "garbage"}) is None
    assert our_id_of({}) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"dateTime": "2026-11-23T00:00:00.0000000", "timeZone": "UTC"}, datetime(2026, 11, 23, tzinfo=UTC)),
        (
            {"dateTime": "2026-11-23T09:30:15.1234567", "timeZone": "UTC"},
            datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC),
        ),
        ({"dateTime": "2026-07-01T10:00:00.0000000", "timeZone": "Europe/Berlin"}, datetime(2026, 7, 1, 8, tzinfo=UTC)),
        ({"dateTime": "2026-07-01T10:00:00", "timeZone": "Not/AZone"}, datetime(2026, 7, 1, 10, tzinfo=UTC)),
        ({"dateTime": "yesterday", "timeZone": "UTC"}, None),
        (None, None),
    ],
)
def test_graph_datetimes_are_read_as_utc_instants(value: object, expected: datetime | None) -> None:
    assert parse_graph_datetime(value) == expected


def test_task_state_reads_completion_and_its_day() -> None:
    done = {"status": "completed", "completedDateTime": {"dateTime": "2026-11-20T00:00:00.0000000", "timeZone": "UTC"}}
    assert task_state("T1", done) == TaskState("T1", "completed", datetime(2026, 11, 20, tzinfo=UTC))
    assert task_state("T2", {"status": "completed"}) == TaskState("T2", "completed", None)
    assert task_state("T3", {"status": "inProgress"}) == TaskState("T3", "open")
    assert task_state("T4", {"status": "notStarted"}) == TaskState("T4", "open")


def test_an_open_todo_task_carrying_our_id_is_offered_for_adoption_and_others_are_not() -> None:
    link = [{"applicationName": "relsync", "externalId": "relsync-fu-1"}]
    task = {
        "id": "T1",
        "title": "Follow up: Acme",
        "status": "notStarted",
        "@odata.etag": 'W/"x"',
        "dueDateTime": {"dateTime": "2026-12-08T00:00:00.0000000", "timeZone": "UTC"},
        "linkedResources": link,
    }
    found = found_task(task)
    assert found is not None and (found.our_id, found.item_id, found.change_key) == ("relsync-fu-1", "T1", 'W/"x"')
    assert (found.subject, found.due) == ("Follow up: Acme", date(2026, 12, 8))
    assert found_task({**task, "status": "completed"}) is None
    assert found_task({**task, "linkedResources": []}) is None
    assert found_task({**task, "dueDateTime": {"dateTime": "garbage"}}) == replace(found, due=None)
