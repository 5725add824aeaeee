"""One ``SyncFolderItems`` change element -> the change the EWS reader's translation would give."""

from __future__ import annotations

from typing import Any

from lxml import etree

from connector.ews.fast.calendar import PendingSeries, calendar_item
from connector.ews.fast.common import FALLBACK, ITEM_ID, FallbackMarker, T
from connector.ews.fast.contacts import contact
from connector.ews.fast.messages import message
from connector.translate_rules import BadItem
from mapping.changes import ItemChange, MeetingSeries, SkippedItem
from mapping.records import ContactRecord, MessageRecord

_CREATE, _UPDATE, _DELETE, _READ_FLAG = (T + "Create", T + "Update", T + "Delete", T + "ReadFlagChange")


def fast_change(
    elem: Any, folder: str, *, owner: str | None = None, default_region: str | None = None
) -> ItemChange | SkippedItem | PendingSeries | FallbackMarker | None:
    """One ``SyncFolderItems`` change element as the EWS reader's translation would give it: a change
    (a deletion with ``record=None``), a skipped item with its reason, ``None`` (nothing to apply: a
    ``ReadFlagChange``), a recurring master waiting for its exception items (:class:`PendingSeries`,
    finished by the reader), or :data:`FALLBACK` when exchangelib must parse the item."""
    tag = elem.tag
    if tag == _READ_FLAG:
        return None
    if tag == _DELETE:
        found = elem.find(ITEM_ID)
        item_id = None if found is None else found.get("Id")
        return ItemChange(item_id=item_id, change_key=None, record=None) if item_id else None
    if tag not in (_CREATE, _UPDATE) or len(elem) != 1:
        return FALLBACK
    item = elem[0]
    kind = etree.QName(item).localname if isinstance(item.tag, str) else ""
    try:
        record: ContactRecord | MessageRecord | MeetingSeries | PendingSeries
        if folder == "contacts" and kind == "Contact":
            record, categories = contact(item, default_region)
        elif folder in ("inbox", "sentitems") and kind == "Message":
            record, categories = message(item, folder, owner)
        elif folder == "calendar" and kind == "CalendarItem":
            record, categories = calendar_item(item)
        else:
            return FALLBACK
    except BadItem as exc:
        found = item.find(ITEM_ID)
        return SkippedItem(item_id=exc.item_id or (None if found is None else found.get("Id")), reason=exc.reason)
    except Exception:  # Unreadable, or anything unexpected: exchangelib's parse decides, nothing is dropped
        return FALLBACK
    if isinstance(record, PendingSeries):
        return record
    head = record.item if isinstance(record, MeetingSeries) else record
    return ItemChange(item_id=head.item_id, change_key=head.change_key, record=record, categories=categories)
