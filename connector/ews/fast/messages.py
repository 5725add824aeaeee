"""E-mails: a ``t:Message`` element -> :class:`mapping.records.MessageRecord`, as exchangelib's parse and
:func:`connector.ews.translate.messages.message_record` give it."""

from __future__ import annotations

from typing import Any

from connector.ews.fast.common import Children, T, Unreadable, datetime_of, id_of, mailbox, mailboxes, text, texts
from connector.translate_rules import (
    BadItem,
    accepted_message_class,
    dedupe_participants,
    participant_of,
    sensitivity_of,
    text_field,
    utc_datetime,
)
from mapping.records import MessageRecord


class _Owner:
    __slots__ = ("email_address", "name")

    def __init__(self, address: str) -> None:
        self.email_address = address
        self.name: str | None = None


def message(item: Any, folder: str, owner: str | None) -> tuple[MessageRecord, tuple[str, ...]]:
    """As :func:`connector.ews.translate.messages.message_record` reads an exchangelib ``Message``."""
    item = Children(item)  # a dozen fields: one pass over the children, not a find each
    item_id, change_key = id_of(item)
    if item.find(T + "Body") is not None or item.find(T + "TextBody") is not None:
        raise Unreadable("Body")  # snippets stay exchangelib's path
    item_class = text(item, T + "ItemClass")
    if not accepted_message_class(item_class):
        raise BadItem(item_id, f"unsupported item class: {item_class}")
    sent_at = utc_datetime(item_id, "sent time", datetime_of(item, T + "DateTimeSent"))
    received_at = utc_datetime(item_id, "received time", datetime_of(item, T + "DateTimeReceived"))
    if sent_at is None and received_at is None:
        received_at = utc_datetime(item_id, "creation time", datetime_of(item, T + "DateTimeCreated"))
    if sent_at is None and received_at is None:
        raise BadItem(item_id, "no date: neither sent, received nor creation time")

    sender = participant_of(mailbox(item, T + "From"), "from") or participant_of(mailbox(item, T + "Sender"), "from")
    if sender is None and owner and folder == "sentitems":
        sender = participant_of(_Owner(owner), "from")
    participants = dedupe_participants(
        [
            sender,
            *mailboxes(item, T + "ToRecipients", "to"),
            *mailboxes(item, T + "CcRecipients", "cc"),
            *mailboxes(item, T + "BccRecipients", "bcc"),
        ]
    )
    if not participants:
        raise BadItem(item_id, "no address: no participant with a valid e-mail address")

    message_id = text_field(item_id, "Internet-Message-ID", text(item, T + "InternetMessageId"))
    conversation_elem = item.find(T + "ConversationId")
    conversation = None if conversation_elem is None else conversation_elem.get("Id") or None
    size_text = text(item, T + "Size")
    size: int | None = None
    if size_text is not None:
        try:
            size = int(size_text)
        except ValueError:
            raise Unreadable("Size") from None
        size = size if size >= 0 else None
    record = MessageRecord(
        item_id=item_id,
        change_key=change_key,
        folder=folder,
        internet_message_id=message_id,
        conversation_id=conversation,
        subject=text_field(item_id, "subject", text(item, T + "Subject")),
        sent_at=sent_at,
        received_at=received_at,
        participants=participants,
        size=size,
        sensitivity=sensitivity_of(text(item, T + "Sensitivity")),
        item_class=item_class,
        snippet=None,
    )
    return record, tuple(texts(item, T + "Categories", T + "String") or ())
