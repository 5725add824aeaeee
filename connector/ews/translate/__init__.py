"""Exchange item -> record: translating exchangelib objects into :mod:`mapping.records`, purely.

No requests are sent here: these functions read attributes of items the EWS adapter already fetched.
An item we cannot translate raises :class:`BadItem` (never anything else), so the sync engine can skip
it, count it and log its id and reason while the rest of the mailbox syncs.

Decisions, so the engine and the reports can rely on them:

- **Absurd text is rejected, not truncated.** A subject, name or location longer than
  :data:`MAX_TEXT_CHARS` (4,096; Outlook caps subjects at 255) is a broken or hostile item; a
  truncated copy would look trustworthy in reports. ``BadItem("subject too long: 5242880 chars")``.
- **Dates**: a naive datetime, a date outside 1900-2200 (Exchange's "null" dates 1601-01-01 and
  4501-01-01 included), a message with neither sent nor received time, or a meeting ending before it
  starts -> ``BadItem``.
- **Item classes**: contacts must be ``Contact`` (a ``DistributionList`` is rejected), messages must be
  ``Message`` with an ``IPM.Note*`` class (meeting requests/responses, read receipts and NDRs
  (``REPORT.*``) are rejected: meetings come from the calendar, receipts are not conversations),
  meetings must be ``CalendarItem``.
- **Addresses**: participants whose address is not a valid SMTP address (an ``EX`` legacyDN, junk)
  are dropped; a message or meeting left without any participant is a ``BadItem("no address")``.
  A contact keeps invalid e-mails flagged ``is_valid=False`` (what the user typed is data to fix).
- **Time zones**: a meeting's zone is its ``StartTimeZone`` mapped from the Windows id to IANA via
  exchangelib's CLDR table; unknown ids fall back to UTC rather than failing the item.

The package is split by concern: ``rules`` (the rules Graph's translation shares: text, dates,
participants, sensitivity, all-day dates), ``zones``, ``contacts``, ``messages``, ``meetings`` and
``recurrence``; this face re-exports their public names.
"""

from __future__ import annotations

from connector.ews.translate.contacts import contact_record, register_user_fields, reset_user_fields
from connector.ews.translate.meetings import meeting_record
from connector.ews.translate.messages import message_record
from connector.ews.translate.recurrence import deleted_occurrence_starts, modified_occurrence_records, recurrence_spec
from connector.translate_rules import (
    ADDRESS_KINDS,
    MAX_TEXT_CHARS,
    MAX_USER_FIELD_CHARS,
    BadItem,
    accepted_message_class,
    all_day_dates,
    dedupe_participants,
    local_midnight_utc,
    participant_of,
    sensitivity_of,
    text_field,
    utc_datetime,
    windows_to_iana,
)

__all__ = [
    "ADDRESS_KINDS",
    "MAX_TEXT_CHARS",
    "MAX_USER_FIELD_CHARS",
    "BadItem",
    "accepted_message_class",
    "all_day_dates",
    "contact_record",
    "dedupe_participants",
    "deleted_occurrence_starts",
    "local_midnight_utc",
    "meeting_record",
    "message_record",
    "modified_occurrence_records",
    "participant_of",
    "recurrence_spec",
    "register_user_fields",
    "reset_user_fields",
    "sensitivity_of",
    "text_field",
    "utc_datetime",
    "windows_to_iana",
]
