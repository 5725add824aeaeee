"""The pure pieces of moving a mailbox from EWS to Graph ids: which stored states are EWS's, and how a
``translateExchangeIds`` answer is read."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connector.graph.ews_ids import is_ews_state, match_tasks, translations
from mapping.store.id_rewrite import LegacyTask


@pytest.mark.parametrize(
    ("state", "ews"),
    [
        ("H4sIAAAAAAAEAO29B2AcSZYlJi9tynt/SvVK1+B0oQiAYBMk2JBAEOzBiM3mkuwdaUcjKasqgcplVmVdZhZA", True),
        ("https://graph.microsoft.com/v1.0/users/a@x/contacts/delta?$deltatoken=abc", False),
        (
            "https://127.0.0.1:4443/v1.0/users/a@x/calendarView/delta?$skiptoken=x#relsync-window=2026-01-01T00:00:00Z",
            False,
        ),
    ],
)
def test_only_a_state_that_is_not_a_link_is_an_ews_state(state: str, ews: bool) -> None:
    assert is_ews_state(state) is ews


def test_translated_ids_are_read_and_entries_graph_could_not_translate_are_left_out() -> None:
    answer = {
        "value": [
            {"sourceId": "AAMk+1/", "targetId": "AAMk_1-"},
            {"sourceId": "AAMk+2/"},  # no targetId: not translated
            {"sourceId": "AAMk+3/", "targetId": ""},
        ]
    }
    assert translations(answer, ["AAMk+1/", "AAMk+2/", "AAMk+3/", "AAMk+4/"]) == ({"AAMk+1/": "AAMk_1-"}, 0)


@pytest.mark.parametrize("entry", [{"sourceId": "never-asked", "targetId": "x"}, "a string", {"targetId": "x"}])
def test_entries_for_ids_not_asked_or_malformed_are_skipped_and_counted(entry: Any) -> None:
    answer = {"value": [{"sourceId": "a", "targetId": "A"}, entry]}
    assert translations(answer, ["a"]) == ({"a": "A"}, 1)


@pytest.mark.parametrize("answer", [None, {}, {"value": "nope"}, ["a"]])
def test_an_answer_without_a_value_list_translates_nothing(answer: Any) -> None:
    assert translations(answer, ["a"]) == ({}, 0)


def _todo(task_id: str, title: str, due: str | None = None, our_id: str | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {"id": task_id, "title": title, "status": "notStarted", "linkedResources": []}
    if due is not None:
        task["dueDateTime"] = {"dateTime": f"{due}T00:00:00.0000000", "timeZone": "UTC"}
    if our_id is not None:
        task["linkedResources"] = [{"applicationName": "relsync", "externalId": our_id}]
    return task


def _stored(item_id: str, title: str, due: str, our_id: str | None = None) -> LegacyTask:
    return LegacyTask(item_id, our_id or f"our-{item_id}", title, date.fromisoformat(due))


def test_tasks_are_found_again_by_our_id_then_title_and_due_day_then_title_alone() -> None:
    stored = [
        _stored("ews1", "Call Dana Dunn", "2026-12-01", our_id="f-1"),
        _stored("ews2", "Call Erin Estrada", "2026-12-02"),
        _stored("ews3", "Visit  Acme", "2026-12-03"),  # staff moved the due day since: the title still tells
    ]
    todo = [
        _todo("T1", "Renamed by staff", "2026-12-01", our_id="f-1"),
        _todo("T2", "Call Erin Estrada", "2026-12-02"),
        _todo("T2b", "Call Erin Estrada", "2026-12-09"),  # same title, another day: the due day tells them apart
        _todo("T3", "visit acme", "2026-12-10"),
        _todo("T4", "Staff's own task", "2026-12-01"),
    ]
    assert match_tasks(stored, todo) == {"ews1": "T1", "ews2": "T2", "ews3": "T3"}


def test_a_task_that_cannot_be_told_apart_or_belongs_to_another_follow_up_is_not_guessed() -> None:
    stored = [_stored("ews1", "Call Dana Dunn", "2026-12-01"), _stored("ews2", "Call Gina", "2026-12-01")]
    todo = [
        _todo("T1", "Call Dana Dunn", "2026-12-01"),
        _todo("T1copy", "Call Dana Dunn", "2026-12-01"),  # a copy staff made: which one is ours?
        _todo("T2", "Call Gina", "2026-12-01", our_id="another-follow-up"),
        {"title": "Call Gina"},  # no id: skipped
    ]
    assert match_tasks(stored, todo) == {}
