"""Item links: which Exchange item is which store row, created or refreshed per page, and unlinked
when the item is gone (keeping or forgetting the interaction it stood for)."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from mapping.changes import ItemChange, Page, SyncRules
from mapping.store.batching import among
from mapping.store.bulk import insert_tuples, update_tuples
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
    statement (see :func:`write_links`); an ORM object would cost more than the insert."""

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


#: The columns of a stored link a page may change, in :meth:`StoredLink.values` order.
_CHANGING = ("change_key", "entity_type", "entity_id", "categories", "last_seen_at", "deleted_at")


@dataclass(slots=True, eq=False)
class StoredLink:
    """A link stored before this page, as a plain row: changed in place, and written back, when it
    changed, with the page's other changed links in one UPDATE by id (see :func:`write_links`)."""

    id: int
    item_id: str
    change_key: str | None
    entity_type: EntityType
    entity_id: int
    categories: list[str] | None
    last_seen_at: datetime
    deleted_at: datetime | None
    #: The values of :data:`_CHANGING` as the database has them (None: the row was deleted).
    saved: tuple[object, ...] | None = None

    def values(self) -> tuple[object, ...]:
        return (self.change_key, self.entity_type, self.entity_id, self.categories, self.last_seen_at, self.deleted_at)


Links = dict[str, StoredLink | NewLink]
#: Any link :func:`unlink` and :func:`forget` take: the page's, or an ORM one (a full resync's unlinking).
AnyLink = ItemLink | StoredLink | NewLink


def existing_links(session: Session, page: Page) -> Links:
    columns = (ItemLink.id, ItemLink.item_id, *(getattr(ItemLink, c) for c in _CHANGING))
    mine = sa.and_(ItemLink.mailbox_id == page.mailbox_id, ItemLink.folder == page.folder)
    if session.get_bind().dialect.name == "postgresql":
        # Joined to the page's ids, not ``item_id IN (...)``: the driver prepares a statement run
        # this often, and PostgreSQL's generic plan for it (made while the table was small) matches
        # the IN list against every link of the folder, 0.1-0.5 s a page at 20,000 links.
        ids = sa.func.unnest(sa.bindparam("ids", sorted({c.item_id for c in page.changes}), ARRAY(sa.String)))
        keys = ids.table_valued("item_id").render_derived(name="page_items")
        queries = [sa.select(*columns).join(keys, ItemLink.item_id == keys.c.item_id).where(mine)]
    else:
        item_ids = {c.item_id for c in page.changes}
        queries = [sa.select(*columns).where(mine, among(session, ItemLink.item_id, item_ids))] if item_ids else []
    links: Links = {}
    for query in queries:
        for row in session.execute(query):
            link = StoredLink(*row)
            link.saved = link.values()
            links[link.item_id] = link
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


def write_links(session: Session, links: Links) -> None:
    """Insert the links created on this page and update the stored ones it changed: one statement
    each (the ORM sends one INSERT per row, and loads and tracks every link it updates)."""
    row = operator.attrgetter(*_LINK_COLUMNS)
    rows = [row(link) for link in links.values() if isinstance(link, NewLink)]
    insert_tuples(session, "item_links", _LINK_COLUMNS, rows, json_none="null")
    save_links(session, links.values())


def save_links(session: Session, links: Iterable[StoredLink | NewLink]) -> None:
    """Write the stored links changed since loaded (or last saved), in one UPDATE by id."""
    changed: list[tuple[object, ...]] = []
    for link in links:
        if isinstance(link, StoredLink) and link.saved is not None and (values := link.values()) != link.saved:
            changed.append((link.id, *values))
            link.saved = values
    update_tuples(session, "item_links", "id", _CHANGING, changed, json_none="null")


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


def unlink(session: Session, page: Page, link: AnyLink | None, now: datetime, rules: SyncRules) -> bool:
    """The item is gone from this folder: its link is kept, marked deleted.

    A person stays (the contact was one staff member's card, not the relationship). An interaction
    stays as corporate memory, unless the rules say otherwise and no other mailbox holds a copy.
    """
    if link is None or link.deleted_at is not None:
        return False
    link.deleted_at = now
    if isinstance(link, StoredLink):
        save_links(session, [link])  # at once, as the ORM's autoflush did: the queries below see it
    if link.entity_type == EntityType.INTERACTION and page.folder != "contacts":
        if rules.keep_interactions_on_delete:
            _drop_viewer(session, link, page.mailbox_id)
        else:
            forget(session, page, link, keep_link=True)
    return True


def _drop_viewer(session: Session, link: AnyLink, mailbox_id: int) -> None:
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


def forget(session: Session, page: Page, link: AnyLink | None, keep_link: bool = False) -> None:
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
    elif not keep_link and isinstance(link, StoredLink) and link.saved is not None:
        session.execute(sa.delete(ItemLink).where(ItemLink.id == link.id).execution_options(synchronize_session=False))
        link.saved = None  # gone: never written back
