"""Which Outlook contacts should carry which managed categories, and recording what was written.

Provisional: the classifier glue supplies ``wanted`` (person id -> the managed categories that person's
contacts should carry, overrides already applied); this module turns it into one
:class:`~mapping.categories.PlannedCategories` per live Outlook contact linked to the person, in every
mailbox, with the categories and ChangeKey the store last saw. A person missing from ``wanted`` is not
planned at all (their contacts are left alone).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.categories import PlannedCategories
from mapping.store import audit
from mapping.store.classification import record_written_managed
from mapping.store.contact_links import live_contact_links
from mapping.store.models import ItemLink

if TYPE_CHECKING:
    from mapping.store.store import Store

#: A query planning the write-back inside a store transaction (usually :func:`category_plan`).
PlanQuery = Callable[[Session], Sequence[PlannedCategories]]


def category_plan(session: Session, wanted: Mapping[int, Sequence[str]]) -> list[PlannedCategories]:
    """A row for every live contact link of every person in ``wanted``, ordered by mailbox then link."""
    if not wanted:
        return []
    return [
        PlannedCategories(
            c.link_id, c.mailbox, c.item_id, c.change_key, c.categories, tuple(wanted[c.person_id]), c.written
        )
        for c in live_contact_links(session, by_mailbox=True)
        if c.person_id in wanted
    ]


def read_plan(store: Store, query: PlanQuery) -> list[PlannedCategories]:
    """Run a plan query in its own transaction."""
    with store.session() as session:
        return list(query(session))


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
    return len(params)


def record_write_back(
    store: Store,
    seen: Iterable[tuple[int, Sequence[str], str | None]],
    managed: Iterable[tuple[int, Sequence[str]]],
    written: Iterable[tuple[int, Sequence[str]]] = (),
) -> None:
    """Record a write-back in one transaction: the items' new (categories, ChangeKey) as last seen
    (:func:`record_written_categories`), the managed categories now on them as what relsync last
    wrote (:func:`mapping.store.classification.record_written_managed`), and one audit entry per
    contact relsync actually wrote (``written``: link id, its categories now), not per contact that
    was already right or only read."""
    with store.session() as session:
        record_written_categories(session, seen)
        record_written_managed(session, managed)
        audit.exchange_writes(
            session,
            "categories",
            ((f"link:{key}", {"categories": list(categories)}) for key, categories in written),
            reason="classification write-back",
        )
