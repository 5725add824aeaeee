"""Which items of a sync page a suppression list removes, decided on plain records (no I/O).

A suppressed address is someone erased or excluded up front: the store must never hold them again.
A contact with a suppressed address is dropped whole; a message or meeting sent or organised by a
suppressed address is dropped whole (it is *their* mail); on any other item only the suppressed
participants are left out, and an item left with no outside participant at all is dropped too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from mapping.changes import ItemChange, MeetingSeries, Record
from mapping.records import ContactRecord, MeetingRecord, MessageRecord, Participant

_SENDERS = ("from", "organizer")


def page_addresses(changes: Iterable[ItemChange]) -> set[str]:
    """Every address a page's records carry (contacts' e-mails, messages' and meetings' participants)."""
    found: set[str] = set()
    for change in changes:
        record = change.record
        if isinstance(record, ContactRecord):
            found.update(e.address for e in record.emails)
        elif isinstance(record, MessageRecord):
            found.update(p.address for p in record.participants)
        elif isinstance(record, MeetingSeries):
            for m in (record.item, *record.occurrences):
                found.update(p.address for p in m.participants)
    return found


def _external(participants: Iterable[Participant], internal: frozenset[str]) -> list[Participant]:
    return [p for p in participants if p.domain not in internal]


def _kept(
    participants: tuple[Participant, ...], suppressed: Callable[[str], bool], internal: frozenset[str]
) -> tuple[Participant, ...] | None:
    """The participants left, or None when the item goes (theirs, or nobody outside left)."""
    if any(p.role in _SENDERS and suppressed(p.address) for p in participants):
        return None
    left = tuple(p for p in participants if not suppressed(p.address))
    if len(left) != len(participants) and not _external(left, internal):
        return None
    return left


def filter_change(change: ItemChange, suppressed: Callable[[str], bool], internal: frozenset[str]) -> ItemChange | None:
    """The change without suppressed people, or None when the whole item is to be skipped."""
    record: Record | None = change.record
    if record is None:
        return change
    if isinstance(record, ContactRecord):
        return None if any(suppressed(e.address) for e in record.emails) else change
    if isinstance(record, MessageRecord):
        kept = _kept(record.participants, suppressed, internal)
        if kept is None:
            return None
        if len(kept) == len(record.participants):
            return change
        return replace(change, record=replace(record, participants=kept))
    assert isinstance(record, MeetingSeries)
    item_kept = _kept(record.item.participants, suppressed, internal)
    if item_kept is None:
        return None
    occurrences: list[MeetingRecord] = []
    for occurrence in record.occurrences:
        kept = _kept(occurrence.participants, suppressed, internal)
        if kept is None:
            return None
        occurrences.append(replace(occurrence, participants=kept))
    series = replace(record, item=replace(record.item, participants=item_kept), occurrences=tuple(occurrences))
    return replace(change, record=series)
