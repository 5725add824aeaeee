"""Item links: which Exchange item is which store row, created or refreshed per page, and unlinked
when the item is gone (keeping or forgetting the interaction it stood for)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from mapping.changes import ItemChange, Page, SyncRules
from mapping.store.apply.bulk import insert_rows
from mapping.store.batching import chunked
from mapping.store.models import (
    Base,
    EntityType,
    Interaction,
    InteractionKind,
    InteractionViewer,
    ItemKind,
    ItemLink,
    SyncState,
)

_TABLES = Base.metadata.tables


_ITEM_KIND: dict[str, ItemKind] = {
    "contacts": ItemKind.CONTACT,
    "inbox": ItemKind.MESSAGE,
    "sentitems": ItemKind.MESSAGE,
    "calendar": ItemKind.CALENDAR,
}


@dataclass(slots=True)
class NewLink:
    """A link first seen on this page, as a plain row: inserted with the page's others in one
    executemany (see :func:`insert_new_links`); an ORM object would cost more than the insert."""

    mailbox_id: int
    folder: str
    item_id: str
    item_kind: ItemKind
    entity_type: EntityType
    entity_id: int
    first_seen_at: datetime
    last_seen_at: datetime
    change_key: str | None = None
    categories: list[str] | None = None
    deleted_at: datetime | None = None
    our_id: str | None = None
    written_categories: list[str] | None = None
    id: None = None  # no row yet


Links = dict[str, ItemLink | NewLink]


def existing_links(session: Session, page: Page) -> Links:
    links: Links = {}
    mine = sa.and_(ItemLink.mailbox_id == page.mailbox_id, ItemLink.folder == page.folder)
    if session.get_bind().dialect.name == "postgresql":
        # Joined to the page's ids, not ``item_id IN (...)``: the driver prepares a statement run
        # this often, and PostgreSQL's generic plan for it (made while the table was small) matches
        # the IN list against every link of the folder, 0.1-0.5 s a page at 20,000 links.
        ids = sa.func.unnest(sa.bindparam("ids", sorted({c.item_id for c in page.changes}), ARRAY(sa.String)))
        keys = ids.table_valued("item_id").render_derived(name="page_items")
        query = sa.select(ItemLink).join(keys, ItemLink.item_id == keys.c.item_id).where(mine)
        links.update({link.item_id: link for link in session.scalars(query)})
        return links
    for chunk in chunked(c.item_id for c in page.changes):
        query = sa.select(ItemLink).where(mine, ItemLink.item_id.in_(chunk))
        links.update({link.item_id: link for link in session.scalars(query)})
    return links


def touch_link(
    session: Session,
    page: Page,
    links: Links,
    change: ItemChange,
    entity_type: EntityType,
    entity_id: int,
    now: datetime,
) -> bool:
    """Create or refresh the item's link; True when it is new."""
    link = links.get(change.item_id)
    if link is None:
        link = NewLink(
            mailbox_id=page.mailbox_id,
            folder=page.folder,
            item_id=change.item_id,
            item_kind=_ITEM_KIND[page.folder],
            entity_type=entity_type,
            entity_id=entity_id,
            first_seen_at=now,
            last_seen_at=now,
        )
        links[change.item_id] = link
        created = True
    else:
        created = link.deleted_at is not None
    link.change_key = change.change_key
    link.entity_type = entity_type
    link.entity_id = entity_id
    link.categories = list(change.categories)
    link.last_seen_at = now
    link.deleted_at = None
    return created


_LINK_COLUMNS = tuple(c.key for c in ItemLink.__table__.columns if c.key != "id")


def insert_new_links(session: Session, links: Links) -> None:
    """Insert the links created on this page in one executemany; the ORM sends one INSERT per row."""
    rows = [
        {column: getattr(link, column) for column in _LINK_COLUMNS}
        for link in links.values()
        if isinstance(link, NewLink)
    ]
    insert_rows(session, "item_links", rows)


def save_state(session: Session, page: Page, now: datetime) -> None:
    state = session.scalars(
        sa.select(SyncState).where(SyncState.mailbox_id == page.mailbox_id, SyncState.folder == page.folder)
    ).one_or_none()
    if state is None:
        state = SyncState(mailbox_id=page.mailbox_id, folder=page.folder)
        session.add(state)
    state.state = page.new_state
    state.folder_id = page.folder_id or state.folder_id
    state.last_page_at = now


def unlink(session: Session, page: Page, link: ItemLink | NewLink | None, now: datetime, rules: SyncRules) -> bool:
    """The item is gone from this folder: its link is kept, marked deleted.

    A person stays (the contact was one staff member's card, not the relationship). An interaction
    stays as corporate memory, unless the rules say otherwise and no other mailbox holds a copy.
    """
    if link is None or link.deleted_at is not None:
        return False
    link.deleted_at = now
    if link.entity_type == EntityType.INTERACTION and page.folder != "contacts":
        if rules.keep_interactions_on_delete:
            _drop_viewer(session, link, page.mailbox_id)
        else:
            forget(session, page, link, keep_link=True)
    return True


def _drop_viewer(session: Session, link: ItemLink | NewLink, mailbox_id: int) -> None:
    # A series links to its first stored occurrence; viewers of all its occurrences go with it.
    interaction = session.get(Interaction, link.entity_id)
    if interaction is None:
        return
    ids = [interaction.id]
    if interaction.kind == InteractionKind.MEETING and interaction.ical_uid:
        ids = list(session.scalars(sa.select(Interaction.id).where(Interaction.ical_uid == interaction.ical_uid)))
    # The mailbox may still hold another copy (the same e-mail in Inbox and Sent Items): it still sees it.
    other_copy = session.scalar(
        sa.select(ItemLink.id)
        .where(
            ItemLink.mailbox_id == mailbox_id,
            ItemLink.entity_type == EntityType.INTERACTION,
            ItemLink.entity_id.in_(ids),
            ItemLink.deleted_at.is_(None),
            ItemLink.id != link.id,
        )
        .limit(1)
    )
    if other_copy is not None:
        return
    session.execute(
        sa.delete(InteractionViewer).where(
            InteractionViewer.interaction_id.in_(ids), InteractionViewer.mailbox_id == mailbox_id
        )
    )


def forget(session: Session, page: Page, link: ItemLink | NewLink | None, keep_link: bool = False) -> None:
    """An item we stored became private (or otherwise unstorable): privacy beats memory."""
    if link is None or link.entity_type != EntityType.INTERACTION:
        return
    _drop_viewer(session, link, page.mailbox_id)
    session.flush()
    interaction = session.get(Interaction, link.entity_id)
    # A series is linked through its first occurrence: every occurrence nobody else holds goes.
    group = [interaction] if interaction is not None else []
    if interaction is not None and interaction.kind == InteractionKind.MEETING and interaction.ical_uid:
        group = list(session.scalars(sa.select(Interaction).where(Interaction.ical_uid == interaction.ical_uid)))
    for member in group:
        if not session.scalar(
            sa.select(sa.func.count())
            .select_from(InteractionViewer)
            .where(InteractionViewer.interaction_id == member.id)
        ):
            session.delete(member)
    if not keep_link and isinstance(link, ItemLink):
        session.delete(link)
