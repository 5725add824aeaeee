"""Which Outlook contacts should carry which managed categories, and recording what was written.

Provisional: the classifier glue supplies ``wanted`` (person id -> the managed categories that person's
contacts should carry, overrides already applied); this module turns it into one row per live Outlook
contact linked to the person, in every mailbox, with the categories and ChangeKey the store last saw.
A person missing from ``wanted`` is not planned at all (their contacts are left alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.store import audit
from mapping.store.id_rewrite import PARKED
from mapping.store.models import EntityType, ItemKind, ItemLink, StaffMailbox


@dataclass(frozen=True)
class CategoryPlanRow:
    """One Outlook contact: its link, where it lives, what the store last saw, what it should carry."""

    link_id: int
    mailbox: str
    item_id: str
    change_key: str | None
    categories: tuple[str, ...]
    wanted: tuple[str, ...]
    #: The managed categories relsync last wrote on it (``ItemLink.written_categories``); None: never.
    written: tuple[str, ...] | None = None


def category_plan(session: Session, wanted: Mapping[int, Sequence[str]]) -> list[CategoryPlanRow]:
    """A row for every live contact link of every person in ``wanted``, ordered by mailbox then link."""
    if not wanted:
        return []
    rows = session.execute(
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
        .order_by(StaffMailbox.address, ItemLink.id)
    )
    return [
        CategoryPlanRow(
            link_id, mailbox, item_id, change_key, tuple(str(c) for c in categories or ()), tuple(wanted[person_id]),
            None if written is None else tuple(str(c) for c in written),
        )
        for link_id, mailbox, item_id, change_key, person_id, categories, written in rows
        if person_id in wanted
    ]


def record_written_categories(session: Session, written: Iterable[tuple[int, Sequence[str], str | None]]) -> int:
    """Store (link id, categories, ChangeKey) as the items' last-seen state, in one bulk UPDATE.

    This is the base the next comparison starts from, so our own writes coming back through sync
    compare equal and cause no new write.
    """
    params = [
        {"id": link_id, "categories": list(categories), "change_key": change_key}
        for link_id, categories, change_key in written
        if change_key
    ]
    if params:
        session.execute(sa.update(ItemLink), params)
        audit.exchange_writes(session, "categories", ((f"link:{p['id']}", {"categories": p["categories"]})
                                                      for p in params), reason="classification write-back")
    return len(params)
