"""The fast reader reads every recurrence pattern and range as exchangelib does.

The fake Exchange renders daily, weekly and absolute monthly series (tests/property/test_fast_reader_equality.py
reads those over HTTP); Exchange also sends relative monthly, absolute and relative yearly patterns, unknown
or missing values and dates with or without a zone
(https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/recurrence-recurrencetype).
Hypothesis writes recurring masters' ``t:CalendarItem`` elements with all of them, with modified and deleted
occurrences, and each is read both ways: exchangelib's ``CalendarItem.from_xml`` with relsync's translation
(meeting_record, modified_occurrence_records, recurrence_spec, deleted_occurrence_starts, in the reader's
order), and the fast reader (connector.ews.fast.calendar.calendar_item). The results, or the skip reasons,
are equal, and the fast reader reads every one of them itself.
"""

from __future__ import annotations

import copy
from typing import Any

from exchangelib.items import CalendarItem
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from connector.ews.fast.calendar import PendingSeries, calendar_item
from connector.ews.translate import (
    BadItem,
    deleted_occurrence_starts,
    meeting_record,
    modified_occurrence_records,
    recurrence_spec,
)

NS = 'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"'
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NUMBERS = st.sampled_from(["1", "2", "3", "12", "0", "-1", "x", " 4 ", None])
DATES = st.sampled_from(["2026-03-02", "2026-11-30Z", "2026-03-02+02:00", "2026-03-02-05:00", "2025-12-31", None])
TIMES = st.sampled_from(
    ["2026-03-09T10:00:00Z", "2026-03-10T08:30:00Z", "2026-03-16T23:00:00Z", "1601-01-01T00:00:00Z", None]
)


def _el(tag: str, value: str | None) -> str:
    return "" if value is None else f"<t:{tag}>{value}</t:{tag}>"


@st.composite
def patterns(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(["Daily", "Weekly", "AbsoluteMonthly", "RelativeMonthly", "AbsoluteYearly", "RelativeYearly"])
    )
    interval = _el("Interval", draw(NUMBERS))
    day = _el("DaysOfWeek", draw(st.sampled_from([*WEEKDAYS, "Day", "Weekday", "WeekendDay", "Funday", None])))
    index = _el("DayOfWeekIndex", draw(st.sampled_from(["First", "Second", "Fourth", "Last", "Fifth", None])))
    month = _el("Month", draw(st.sampled_from(["January", "March", "December", "Smarch", None])))
    day_of_month = _el("DayOfMonth", draw(NUMBERS))
    if kind == "Daily":
        body = interval
    elif kind == "Weekly":
        days = draw(st.lists(st.sampled_from([*WEEKDAYS, "Weekday"]), max_size=3))
        first = _el("FirstDayOfWeek", draw(st.sampled_from(["Monday", "Sunday", "Someday", None])))
        body = interval + (_el("DaysOfWeek", " ".join(days)) if days else "") + first
    elif kind == "AbsoluteMonthly":
        body = interval + day_of_month
    elif kind == "RelativeMonthly":
        body = interval + day + index
    elif kind == "AbsoluteYearly":
        body = day_of_month + month
    else:
        body = day + index + month
    return f"<t:{kind}Recurrence>{body}</t:{kind}Recurrence>"


@st.composite
def ranges(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["NoEnd", "EndDate", "Numbered"]))
    body = _el("StartDate", draw(DATES))
    if kind == "EndDate":
        body += _el("EndDate", draw(DATES))
    elif kind == "Numbered":
        body += _el("NumberOfOccurrences", draw(NUMBERS))
    return f"<t:{kind}Recurrence>{body}</t:{kind}Recurrence>"


@st.composite
def masters(draw: st.DrawFn) -> Any:
    modified = "".join(
        f'<t:Occurrence><t:ItemId Id="EX{i}" ChangeKey="{draw(st.sampled_from(["CK", ""]))}"/>'
        f"{_el('Start', draw(TIMES))}{_el('End', draw(TIMES))}{_el('OriginalStart', draw(TIMES))}</t:Occurrence>"
        for i in range(draw(st.integers(0, 3)))
    )
    deleted = "".join(
        f"<t:DeletedOccurrence>{_el('Start', draw(TIMES))}</t:DeletedOccurrence>"
        for _ in range(draw(st.integers(0, 2)))
    )
    all_day = draw(st.booleans())
    start, end = (
        ("2026-03-01T23:00:00Z", "2026-03-02T23:00:00Z")
        if all_day
        else draw(st.sampled_from([("2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"), ("2026-03-02T09:00:00Z", None)]))
    )
    zone = draw(st.sampled_from(["W. Europe Standard Time", "Eastern Standard Time", "UTC"]))
    xml = (
        f'<t:CalendarItem {NS}><t:ItemId Id="MASTER" ChangeKey="K1"/><t:Subject>Review</t:Subject>'
        f"<t:Categories><t:String>Kunde</t:String></t:Categories>"
        f"{_el('Start', start)}{_el('End', end)}<t:IsAllDayEvent>{'true' if all_day else 'false'}</t:IsAllDayEvent>"
        f"<t:CalendarItemType>RecurringMaster</t:CalendarItemType>"
        f"<t:Organizer><t:Mailbox><t:Name>Dana</t:Name><t:EmailAddress>dana@fabrikam.example</t:EmailAddress>"
        f"</t:Mailbox></t:Organizer>"
        f"<t:Recurrence>{draw(patterns())}{draw(ranges())}</t:Recurrence>"
        f"{f'<t:ModifiedOccurrences>{modified}</t:ModifiedOccurrences>' if modified else ''}"
        f"{f'<t:DeletedOccurrences>{deleted}</t:DeletedOccurrences>' if deleted else ''}"
        f'<t:StartTimeZone Id="{zone}"/><t:EndTimeZone Id="{zone}"/></t:CalendarItem>'
    )
    return etree.fromstring(xml)


def _exchangelib(elem: Any) -> Any:
    item = CalendarItem.from_xml(elem=copy.deepcopy(elem), account=None)
    try:
        record = meeting_record(item)
        modified = modified_occurrence_records(item, record)
        spec = recurrence_spec(item.recurrence, record.item_id)
        deleted = deleted_occurrence_starts(item)
    except BadItem as exc:
        return ("skipped", exc.item_id, exc.reason)
    return (record, spec, modified, deleted, tuple(item.categories or ()))


def _fast(elem: Any) -> Any:
    try:
        series, categories = calendar_item(elem)
    except BadItem as exc:
        return ("skipped", exc.item_id, exc.reason)
    assert isinstance(series, PendingSeries)
    return (series.record, series.recurrence, list(series.modified), list(series.deleted), categories)


@settings(max_examples=300, deadline=None)
@given(masters())
def test_fast_reader_reads_every_recurrence_as_exchangelib_does(elem: Any) -> None:
    assert _fast(elem) == _exchangelib(elem)
