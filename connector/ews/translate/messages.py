"""Messages: an exchangelib ``Message`` -> :class:`mapping.records.MessageRecord`."""

from __future__ import annotations

import html
import re
from typing import Any

from exchangelib import Message

from connector.translate_rules import (
    BadItem,
    accepted_message_class,
    dedupe_participants,
    item_id_of,
    participant_of,
    sensitivity_of,
    text_field,
    utc_datetime,
)
from mapping.records import (
    MessageRecord,
)

# --- messages ------------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_STYLE = re.compile(r"<(style|script)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")


def _snippet(item: Any, chars: int) -> str | None:
    if chars <= 0:
        return None
    text = getattr(item, "text_body", None) or getattr(item, "body", None)
    if not text:
        return None
    # Only the first part is ever needed; cap before regexes so a 50 MB body costs nothing.
    raw = str(text)[: chars * 20 + 4096]
    if "<" in raw and type(text).__name__ == "HTMLBody":
        raw = html.unescape(_TAG.sub(" ", _STYLE.sub(" ", raw)))
    snippet = _SPACE.sub(" ", raw).strip()[:chars].strip()
    return snippet or None


def message_record(item: Any, folder: str, *, owner: str | None = None, snippet_chars: int = 0) -> MessageRecord:
    """Translate an exchangelib ``Message`` found in ``folder`` ("inbox" or "sentitems").

    An item with neither sent nor received time (saved, never sent) is dated by its creation time.
    The sender is ``From`` (``author``), else ``Sender``; in Sent Items a message without either is
    attributed to ``owner`` (the mailbox's address) when given. The body is never kept: at most its
    first ``snippet_chars`` characters, whitespace collapsed and HTML stripped.
    """
    if not isinstance(item, Message):
        raise BadItem(getattr(item, "id", None), f"unsupported item class: {type(item).__name__}")
    item_id = item_id_of(item)
    if not accepted_message_class(item.item_class):
        raise BadItem(item_id, f"unsupported item class: {item.item_class}")
    sent_at = utc_datetime(item_id, "sent time", item.datetime_sent)
    received_at = utc_datetime(item_id, "received time", item.datetime_received)
    if sent_at is None and received_at is None:
        # a message saved (not sent, not delivered) has only its store times: date it by its creation
        received_at = utc_datetime(item_id, "creation time", getattr(item, "datetime_created", None))
    if sent_at is None and received_at is None:
        raise BadItem(item_id, "no date: neither sent, received nor creation time")

    sender = participant_of(item.author, "from") or participant_of(item.sender, "from")
    if sender is None and owner and folder == "sentitems":
        sender = participant_of(_OwnerMailbox(owner), "from")
    participants = dedupe_participants(
        [
            sender,
            *(participant_of(m, "to") for m in item.to_recipients or ()),
            *(participant_of(m, "cc") for m in item.cc_recipients or ()),
            *(participant_of(m, "bcc") for m in item.bcc_recipients or ()),
        ]
    )
    if not participants:
        raise BadItem(item_id, "no address: no participant with a valid e-mail address")

    message_id = text_field(item_id, "Internet-Message-ID", item.message_id)
    conversation = getattr(item.conversation_id, "id", None) if item.conversation_id is not None else None
    size = item.size if isinstance(item.size, int) and item.size >= 0 else None
    return MessageRecord(
        item_id=item_id,
        change_key=item.changekey,
        folder=folder,
        internet_message_id=message_id,
        conversation_id=str(conversation) if conversation else None,
        subject=text_field(item_id, "subject", item.subject),
        sent_at=sent_at,
        received_at=received_at,
        participants=participants,
        size=size,
        sensitivity=sensitivity_of(item.sensitivity),
        item_class=item.item_class,
        snippet=_snippet(item, snippet_chars),
    )


class _OwnerMailbox:
    """Stands in for an exchangelib Mailbox when only the owner's address is known."""

    __slots__ = ("email_address", "name")

    def __init__(self, address: str) -> None:
        self.email_address = address
        self.name: str | None = None
