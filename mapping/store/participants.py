"""Participants link to whoever their address belongs to, whenever that someone appears.

An interaction's participant is stored with the person (or staff mailbox) its address belongs to *at
that moment*. Mailboxes sync in any order, so the person often appears later: mailbox A's inbound
mail from a customer is stored before mailbox B's sent mail (or contact) makes that customer a person.
Without a later link the participant would stay unlinked for good and the store would depend on which
mailbox synced first (a relationship's status and first contact with it). So every place an address
becomes known calls one of these, in the same transaction:

* :func:`link_people` after a page gave addresses their person (new people from mail, meetings or
  contacts, or a new address on a known person);
* :func:`link_staff` when a staff mailbox is first recorded.

Both touch only participants still unlinked, so a link once made (and a merge's rewrite) stays.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.store.batching import among
from mapping.store.models import EmailAddress, InteractionParticipant


def link_people(session: Session, addresses: Iterable[str]) -> int:
    """Give the unlinked participants with these addresses the person each address now belongs to.

    Returns how many participants were linked. A staff participant is never a person, so it is left
    alone (as when it was stored).
    """
    p = InteractionParticipant
    owner = sa.select(EmailAddress.person_id).where(EmailAddress.address == p.address).limit(1).scalar_subquery()
    addresses = set(addresses)
    if not addresses:
        return 0
    result = session.execute(
        sa.update(p)
        # Neither a person nor a staff mailbox, as one condition: as two, SQLite's planner walks the
        # staff_mailbox_id index over every unlinked participant instead of the address index.
        .where(among(session, p.address, addresses), sa.func.coalesce(p.person_id, p.staff_mailbox_id).is_(None))
        .where(sa.exists().where(EmailAddress.address == p.address))
        .values(person_id=owner)
        .execution_options(synchronize_session=False)
    )
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


def link_staff(session: Session, address: str, mailbox_id: int) -> int:
    """A staff mailbox was recorded: participants with its address are that staff member, not a person.

    Interactions stored before the mailbox was known (another mailbox's mail to a colleague) are linked
    as if the mailbox had been known then.
    """
    p = InteractionParticipant
    result = session.execute(
        sa.update(p)
        .where(p.address == address, p.staff_mailbox_id.is_(None))
        .values(staff_mailbox_id=mailbox_id, person_id=None)
        .execution_options(synchronize_session=False)
    )
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
