"""What staff do from the Outlook add-in's card, each in its own transaction and recorded (who, when, what).

- :func:`complete_follow_up`: the viewer's own open follow-up is done, with their note. It closes as if
  ticked off in Outlook (an interaction that counts as contact), and its task is marked for the normal
  outbox (``pending_write = "complete"``): the next follow-up run completes it in the owner's Tasks folder.
  Who and when are in the follow-up's note, ``completed_at`` and ``closed_reason``.
- :func:`set_override` / :func:`remove_override`: a staff override of type, tier or owner, the same row
  a managed category set by hand on a contact opens (``category_overrides``, with the staff mailbox and
  time), so it is shown, respected and removable the same way; classification applies it on its next run
  and writes the category back to the contacts. The web console's admins set and remove them through the
  same two functions (``console=True``: who in ``set_by``); each is an audit log entry.
- :func:`not_the_same`: a pending duplicate pair is rejected through :func:`mapping.store.review.reject_pair`
  (``decided_by`` / ``decided_at``).

Each raises :class:`AddinActionError` with one sentence when the action cannot be done; nothing is changed then.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa

from mapping.errors import RelsyncError
from mapping.store import audit
from mapping.store import followups as fs
from mapping.store.models import (
    CategoryDimension,
    CategoryOverride,
    FollowUp,
    FollowUpStatus,
    MatchCandidate,
    MatchStatus,
    Relationship,
    StaffMailbox,
    utcnow,
)
from mapping.store.review import ReviewError, reject_pair
from mapping.store.store import Store

#: The dimensions staff may override from the card (the issue's "type, tier or owner").
OVERRIDABLE = ("type", "tier", "owner")
MAX_NOTE_LENGTH = 1000


class AddinActionError(RelsyncError):
    """An action from the card that cannot be done (not yours, already done, unknown value...)."""


def _mailbox(session: sa.orm.Session, address: str) -> StaffMailbox:
    box = session.scalar(sa.select(StaffMailbox).where(sa.func.lower(StaffMailbox.address) == address.casefold()))
    if box is None:
        raise AddinActionError(f"{address} is not a staff mailbox relsync syncs, so it cannot act from the card")
    return box


def complete_follow_up(store: Store, follow_up_id: int, actor: str, note: str, now: datetime | None = None) -> str:
    """Mark ``actor``'s open follow-up done with ``note``; returns what was done, as a sentence."""
    now = now or utcnow()
    note = " ".join(note.split())
    if len(note) > MAX_NOTE_LENGTH:
        raise AddinActionError(f"the note is {len(note)} characters long: write at most {MAX_NOTE_LENGTH}")
    with store.session() as s:
        box = _mailbox(s, actor)
        f = s.get(FollowUp, follow_up_id)
        if f is None or f.owner_mailbox_id != box.id:
            raise AddinActionError(f"follow-up {follow_up_id} is not one of {actor}'s follow-ups")
        if f.status != FollowUpStatus.OPEN:
            raise AddinActionError(f"follow-up {follow_up_id} is already {f.status.value}")
        fs.record_staff_completed(s, follow_up_id, now, now)
        f.note = f"Done from the Outlook add-in by {box.address} at {now:%Y-%m-%d %H:%M} UTC" + (
            f": {note}" if note else "."
        )
        # Through the outbox, as every close: the follow-up run completes the task in Exchange.
        f.pending_write = "complete"
        return f"follow-up {follow_up_id} is done; its task is completed in Outlook on the next run"


def _setter(session: sa.orm.Session, actor: str, console: bool) -> tuple[StaffMailbox | None, str | None]:
    """Who sets an override: the add-in's caller is a staff mailbox; from the web console, the signed-in
    user's own staff mailbox when they have one, and always their name in ``set_by``."""
    if not console:
        return _mailbox(session, actor), None
    box = session.scalar(sa.select(StaffMailbox).where(sa.func.lower(StaffMailbox.address) == actor.casefold()))
    return box, f"web:{actor.casefold()}"[:400]


def _audit_override(
    session: sa.orm.Session,
    action: str,
    relationship_id: int,
    dimension: str,
    box: StaffMailbox | None,
    actor: str,
    console: bool,
) -> None:
    audit.record(
        session,
        "override",
        action,
        actor=f"{'web' if console else 'addin'}:{actor.casefold()}",
        subject=f"relationship:{relationship_id}",
        reason="staff override from the web console" if console else "staff override from the Outlook add-in",
        detail={"dimension": dimension, "mailbox_id": box.id if box else None},
    )


def set_override(
    store: Store,
    relationship_id: int,
    dimension: str,
    value: str,
    actor: str,
    allowed: Collection[str] = (),
    *,
    console: bool = False,
) -> str:
    """``actor`` overrides ``dimension`` (type, tier or owner) of a relationship with ``value``, which must
    be one of ``allowed`` (case-insensitive) when given; an owner must be a staff mailbox.

    From the add-in ``actor`` is a staff mailbox; from the web console (``console``) it is the signed-in
    admin, recorded in ``set_by`` (and as the mailbox when they have one). Both are audited."""
    if dimension not in OVERRIDABLE:
        raise AddinActionError(f"{dimension!r} cannot be overridden from the card: use one of {', '.join(OVERRIDABLE)}")
    value = value.strip()
    if not value or len(value) > 255:
        raise AddinActionError(f"give a {dimension} to set (at most 255 characters)")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise AddinActionError(f"give a {dimension} without control characters")
    if allowed:
        match = next((a for a in allowed if a.casefold() == value.casefold()), None)
        if match is None:
            raise AddinActionError(f"{value!r} is not a {dimension}: use one of {', '.join(sorted(allowed))}")
        value = match
    with store.session() as s:
        box, set_by = _setter(s, actor, console)
        if s.get(Relationship, relationship_id) is None:
            raise AddinActionError(f"there is no relationship {relationship_id}")
        if dimension == "owner":
            value = _mailbox(s, value).address
        now = utcnow()
        dim = CategoryDimension(dimension)
        for live in s.scalars(
            sa.select(CategoryOverride).where(
                CategoryOverride.relationship_id == relationship_id,
                CategoryOverride.dimension == dim,
                CategoryOverride.removed_at.is_(None),
            )
        ):
            live.removed_at = now
        s.add(
            CategoryOverride(
                relationship_id=relationship_id,
                dimension=dim,
                value=value,
                item_link_id=None,
                mailbox_id=box.id if box else None,
                set_by=set_by,
                created_at=now,
            )
        )
        s.flush()
        _audit_override(s, "set", relationship_id, dimension, box, actor, console)
        return f"{dimension} of relationship {relationship_id} is overridden to {value!r} from the next classification"


def remove_override(store: Store, relationship_id: int, dimension: str, actor: str, *, console: bool = False) -> str:
    """End the live override of ``dimension``: relsync's own classification applies again."""
    if dimension not in OVERRIDABLE:
        raise AddinActionError(f"{dimension!r} is not overridden from the card: use one of {', '.join(OVERRIDABLE)}")
    with store.session() as s:
        box, _ = _setter(s, actor, console)
        live = list(
            s.scalars(
                sa.select(CategoryOverride).where(
                    CategoryOverride.relationship_id == relationship_id,
                    CategoryOverride.dimension == CategoryDimension(dimension),
                    CategoryOverride.removed_at.is_(None),
                )
            )
        )
        if not live:
            raise AddinActionError(f"relationship {relationship_id} has no {dimension} override to remove")
        now = utcnow()
        for o in live:
            o.removed_at = now
        _audit_override(s, "removed", relationship_id, dimension, box, actor, console)
        return f"the {dimension} override of relationship {relationship_id} is removed"


def not_the_same(store: Store, pair_id: int, actor: str) -> str:
    """A pending duplicate pair is two different records: it is never proposed again."""
    with store.session() as s:
        _mailbox(s, actor)
        pair = s.get(MatchCandidate, pair_id)
        if pair is None or pair.status is not MatchStatus.PENDING:
            raise AddinActionError(f"duplicate pair {pair_id} is not waiting for review")
    try:
        return reject_pair(store, pair_id, f"addin:{actor.casefold()}")
    except ReviewError as exc:
        raise AddinActionError(str(exc)) from None


__all__ = [
    "MAX_NOTE_LENGTH",
    "OVERRIDABLE",
    "AddinActionError",
    "complete_follow_up",
    "not_the_same",
    "remove_override",
    "set_override",
]
