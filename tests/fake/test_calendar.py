"""Calendar items: time zones, all-day events, recurring series with exceptions and deletions."""

from __future__ import annotations

import datetime as dt

import pytest
from exchangelib import Account, CalendarItem, EWSDateTime, EWSTimeZone
from exchangelib.errors import ErrorCalendarOccurrenceIsDeletedFromRecurrence
from exchangelib.recurrence import DailyPattern, NumberedPattern, Recurrence

from connector.fake.ews.server import FakeExchange

from .company import ALICE, SERIES_START

UTC = dt.UTC


def events(acc: Account) -> dict[str, CalendarItem]:
    return {e.subject: e for e in acc.calendar.all()}


def test_time_zones_and_all_day_events_parse_as_exchange_sends_them(alice: Account) -> None:
    ev = events(alice)
    review = ev["Quarterly review with Fabrikam"]
    assert review._start_timezone == EWSTimeZone("Europe/Berlin")
    assert review.start == EWSDateTime(2026, 3, 10, 13, 0, tzinfo=EWSTimeZone("UTC"))
    assert review.start.astimezone(review._start_timezone).hour == 14
    assert [a.mailbox.email_address for a in review.required_attendees] == ["dana@fabrikam.test", ALICE.email]
    assert review.required_attendees[0].response_type == "Accept"
    fair = ev["Trade fair"]
    assert fair.is_all_day is True and fair.start == dt.date(2026, 3, 12) and fair.legacy_free_busy_status == "Free"
    assert ev["Doctor"].sensitivity == "Private"


def test_recurring_master_lists_its_exceptions_and_deleted_occurrences(alice: Account) -> None:
    master = events(alice)["Weekly sync"]
    # Exchange serves IsRecurring false on a master in its organizer's calendar (documented:
    # https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/isrecurring)
    assert master.type == "RecurringMaster" and master.is_recurring is False
    assert master.recurrence.boundary.number == 6
    assert [o.original_start for o in master.modified_occurrences] == [SERIES_START + dt.timedelta(weeks=1)]
    assert [d.start for d in master.deleted_occurrences] == [SERIES_START + dt.timedelta(weeks=2)]
    assert master.first_occurrence.start == SERIES_START
    # 09:00 Berlin every Monday: after the switch to summer time that is 07:00 UTC
    assert master.last_occurrence.start == dt.datetime(2026, 4, 6, 7, 0, tzinfo=UTC)


def test_occurrences_and_their_master_can_be_fetched(alice: Account) -> None:
    master = events(alice)["Weekly sync"]
    first = master.occurrence(1)
    first.refresh()
    assert (first.type, first.subject, first.start) == ("Occurrence", "Weekly sync", SERIES_START)
    moved = master.occurrence(2)
    moved.refresh()
    assert moved.type == "Exception" and moved.subject == "Weekly sync (moved)"
    assert moved.start == SERIES_START + dt.timedelta(weeks=1, hours=2)
    with pytest.raises(ErrorCalendarOccurrenceIsDeletedFromRecurrence):
        master.occurrence(3).refresh()
    back = first.recurring_master()
    back.refresh()
    assert back.id == master.id and back.type == "RecurringMaster"


def test_calendar_view_expands_the_series_into_occurrences(alice: Account) -> None:
    start = EWSDateTime(2026, 3, 1, tzinfo=EWSTimeZone("UTC"))
    end = EWSDateTime(2026, 4, 30, tzinfo=EWSTimeZone("UTC"))
    seen = [(e.subject, e.type) for e in alice.calendar.view(start=start, end=end)]
    weekly = [s for s in seen if s[0].startswith("Weekly sync")]
    assert len(weekly) == 5  # 6 occurrences, one deleted
    assert ("Weekly sync (moved)", "Exception") in weekly
    assert ("Trade fair", "Single") in seen and ("Doctor", "Single") in seen


def test_deleting_one_occurrence_updates_the_master(fake: FakeExchange, alice: Account) -> None:
    master = events(alice)["Weekly sync"]
    occ = master.occurrence(4)
    occ.refresh()
    occ.delete()
    master.refresh()
    assert len(master.deleted_occurrences) == 2


def test_a_created_daily_series_keeps_its_recurrence_and_time_zone(alice: Account) -> None:
    berlin = EWSTimeZone("Europe/Berlin")
    item = CalendarItem(
        folder=alice.calendar,
        subject="Stand-up",
        start=EWSDateTime(2026, 3, 27, 9, 0, tzinfo=berlin),
        end=EWSDateTime(2026, 3, 27, 9, 15, tzinfo=berlin),
        recurrence=Recurrence(
            pattern=DailyPattern(interval=1), boundary=NumberedPattern(start=dt.date(2026, 3, 27), number=4)
        ),
    )
    item.save()
    fresh = alice.calendar.get(id=item.id)
    assert fresh.type == "RecurringMaster" and fresh._start_timezone == berlin
    occs = []
    for i in range(1, 5):
        o = fresh.occurrence(i)
        o.refresh()
        occs.append(o.start.astimezone(berlin))
    # 09:00 Berlin on every day, across the switch to summer time on 29 March
    assert [o.hour for o in occs] == [9, 9, 9, 9]
    assert occs[-1].utcoffset() == dt.timedelta(hours=2)


def test_editing_one_occurrence_turns_it_into_an_exception(fake: FakeExchange, alice: Account) -> None:
    master = events(alice)["Weekly sync"]
    occ = master.occurrence(5)
    occ.refresh()
    occ.subject = "Weekly sync (with guests)"
    occ.save(update_fields=["subject"])
    master.refresh()
    assert sorted(o.original_start for o in master.modified_occurrences) == [
        SERIES_START + dt.timedelta(weeks=1),
        occ.original_start,
    ]
    again = master.occurrence(5)
    again.refresh()
    assert (again.type, again.subject) == ("Exception", "Weekly sync (with guests)")
    assert again.start == occ.start  # the time stayed


def test_calendar_view_is_cut_at_max_entries_and_limited_to_two_years(alice: Account) -> None:
    from exchangelib.errors import ErrorCalendarViewRangeTooBig

    start = EWSDateTime(2026, 3, 1, tzinfo=EWSTimeZone("UTC"))
    few = list(alice.calendar.view(start=start, end=start + dt.timedelta(days=60), max_items=3))
    assert len(few) == 3
    with pytest.raises(ErrorCalendarViewRangeTooBig):
        list(alice.calendar.view(start=start, end=start + dt.timedelta(days=800)))
