"""The live Outlook contacts of people: the one query both category write-backs plan from.

The managed-category write-back (:mod:`mapping.store.writeback_plan`) and the duplicate-review
category (:func:`mapping.store.identity.duplicate_category_plan`) both walk every live contact link of
a person with its mailbox; they differ only in what they decide per contact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.store.id_rewrite import PARKED
from mapping.store.models import EntityType, ItemKind, ItemLink, StaffMailbox


@dataclass(frozen=True, slots=True)
class ContactLink:
    """One live Outlook contact of a person, as the store last saw it."""

    link_id: int
    mailbox: str
    item_id: str
    change_key: str | None
    person_id: int
    categories: tuple[str, ...]
    #: The managed categories relsync last wrote on it; None: never.
    written: tuple[str, ...] | None


def live_contact_links(session: Session, *, by_mailbox: bool = False) -> Iterator[ContactLink]:
    """Every live contact link of a person (not deleted, not parked), ordered by link id, or by mailbox
    address then link id with ``by_mailbox``."""
    query = (
        sa.select(
            ItemLink.id,
            StaffMailbox.address,
            ItemLink.item_id,
            ItemLink.change_key,
            ItemLink.entity_id,
            ItemLink.categories,
            ItemLink.written_categories,
        )
        .join(StaffMailbox, StaffMailbox.id == ItemLink.mailbox_id)
        .where(
            ItemLink.item_kind == ItemKind.CONTACT,
            ItemLink.entity_type == EntityType.PERSON,
            ItemLink.deleted_at.is_(None),
            # A link parked while its mailbox moves from EWS to Graph has no id the new backend knows.
            ~ItemLink.item_id.startswith(PARKED),
        )
        .order_by(*((StaffMailbox.address,) if by_mailbox else ()), ItemLink.id)
    )
    for link_id, mailbox, item_id, change_key, person_id, categories, written in session.execute(query):
        yield ContactLink(
            link_id,
            mailbox,
            item_id,
            change_key,
            person_id,
            tuple(str(c) for c in categories or ()),
            None if written is None else tuple(str(c) for c in written),
        )
