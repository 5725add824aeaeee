"""Read-only views of the store for people and scripts: mailbox status (with the daemons' leases) and exports.

Rows are plain dicts of JSON-friendly values (ISO 8601 UTC strings for instants), produced by
streaming queries so an export of a million interactions does not sit in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.store import models as m
from mapping.store.models import (
    EmailAddress,
    Interaction,
    InteractionParticipant,
    InteractionViewer,
    ItemLink,
    MailboxLease,
    Organisation,
    OrganisationDomain,
    Person,
    Phone,
    Relationship,
    StaffMailbox,
    SyncState,
)
from mapping.store.store import Store

EXPORTS = ("people", "organizations", "interactions", "relationships")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def mailbox_status(session: Session, now: datetime, configured: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """One row per staff mailbox: state, last success, lag, items linked, last error, per-folder detail,
    failures in a row, throttling, and the worker holding its lease.

    With ``configured`` (the config's addresses), a configured mailbox the store has not seen yet is
    listed as never synced, and each row says whether it is still configured.
    """
    items = dict(
        session.execute(
            sa.select(ItemLink.mailbox_id, sa.func.count())
            .where(ItemLink.deleted_at.is_(None))
            .group_by(ItemLink.mailbox_id)
        ).all()
    )
    folders: dict[int, dict[str, Any]] = {}
    # Columns, not ORM objects: a sync state can be kilobytes, and status only asks whether there is one.
    states = sa.select(
        SyncState.mailbox_id,
        SyncState.folder,
        SyncState.last_page_at,
        SyncState.full_syncs,
        SyncState.state.is_not(None),
    ).order_by(SyncState.folder)
    for mailbox_id, folder, last_page_at, full_syncs, has_state in session.execute(states):
        folders.setdefault(mailbox_id, {})[folder] = {
            "last_page_at": _iso(last_page_at),
            "full_syncs": full_syncs,
            "has_state": bool(has_state),
        }
    leases = mailbox_leases(session)
    wanted = {a.lower() for a in configured} if configured is not None else None
    rows = []
    columns = (
        StaffMailbox.id,
        StaffMailbox.address,
        StaffMailbox.needs_attention,
        StaffMailbox.attention_reason,
        StaffMailbox.last_success_at,
        StaffMailbox.last_error,
        StaffMailbox.last_error_at,
        StaffMailbox.last_throttled_at,
        StaffMailbox.last_throttled_seconds,
    )
    for mailbox in session.execute(sa.select(*columns).order_by(StaffMailbox.address)):
        if mailbox.needs_attention:
            state = "needs attention"
        elif mailbox.last_success_at is None:
            state = "never synced"
        else:
            state = "ok"
        lag = (now - mailbox.last_success_at).total_seconds() if mailbox.last_success_at else None
        lease = leases.get(mailbox.id)
        rows.append(
            {
                "mailbox": mailbox.address,
                "state": state,
                "last_success": _iso(mailbox.last_success_at),
                "lag_seconds": round(lag) if lag is not None else None,
                "items": items.get(mailbox.id, 0),
                "last_error": mailbox.last_error,
                "last_error_at": _iso(mailbox.last_error_at),
                "attention_reason": mailbox.attention_reason,
                "folders": folders.get(mailbox.id, {}),
                **_lease_columns(lease, now),
                "last_throttled_at": _iso(mailbox.last_throttled_at),
                "last_throttled_seconds": mailbox.last_throttled_seconds,
                "configured": wanted is None or mailbox.address in wanted,
            }
        )
    known = {row["mailbox"] for row in rows}
    for address in sorted((wanted or set()) - known):
        rows.append(_never_seen(address))
    rows.sort(key=lambda row: str(row["mailbox"]))
    return rows


@dataclass(frozen=True)
class LeaseView:
    """What status shows of a mailbox's lease (``mailbox_leases``, written by the daemons)."""

    holder: str | None
    expires_at: datetime | None
    next_due_at: datetime | None
    failures: int


def mailbox_leases(session: Session) -> dict[int, LeaseView]:
    """Every mailbox's lease by mailbox id (none for a mailbox no daemon or command has synced yet)."""
    query = sa.select(
        MailboxLease.mailbox_id,
        MailboxLease.holder,
        MailboxLease.expires_at,
        MailboxLease.next_due_at,
        MailboxLease.failures,
    )
    return {row[0]: LeaseView(*row[1:]) for row in session.execute(query)}


def _lease_columns(lease: LeaseView | None, now: datetime) -> dict[str, Any]:
    held = lease is not None and lease.holder is not None and (lease.expires_at is None or lease.expires_at > now)
    return {
        # A lease past its expiry belongs to a worker that stopped renewing it: nobody holds it now.
        "worker": lease.holder if held and lease is not None else None,
        "lease_expires_at": _iso(lease.expires_at) if held and lease is not None else None,
        "next_sync_at": _iso(lease.next_due_at) if lease is not None else None,
        "failures_in_a_row": lease.failures if lease is not None else 0,
    }


def _never_seen(address: str) -> dict[str, Any]:
    return {
        "mailbox": address,
        "state": "never synced",
        "last_success": None,
        "lag_seconds": None,
        "items": 0,
        "last_error": None,
        "last_error_at": None,
        "attention_reason": None,
        "folders": {},
        "worker": None,
        "lease_expires_at": None,
        "next_sync_at": None,
        "failures_in_a_row": 0,
        "last_throttled_at": None,
        "last_throttled_seconds": None,
        "configured": True,
    }


def export_rows(session: Session, what: str) -> Iterator[dict[str, Any]]:
    """Stream one export (``people``, ``organizations``, ``interactions`` or ``relationships``) as flat rows."""
    if what == "people":
        yield from _people(session)
    elif what == "organizations":
        yield from _organisations(session)
    elif what == "interactions":
        yield from _interactions(session)
    elif what == "relationships":
        yield from _relationships(session)
    else:
        raise ValueError(f"unknown export {what!r}: choose one of {', '.join(EXPORTS)}")


def _relationships(session: Session) -> Iterator[dict[str, Any]]:
    """One row per relationship (organisation, or person without one) with its classification."""
    query = (
        sa.select(Relationship, Organisation.name, Person.display_name)
        .outerjoin(Organisation, Organisation.id == Relationship.organisation_id)
        .outerjoin(Person, Person.id == Relationship.person_id)
        .where(sa.or_(Organisation.merged_into_id.is_(None), Person.merged_into_id.is_(None)))
        .order_by(Relationship.id)
        .execution_options(yield_per=1000)
    )
    from mapping.store.followups import next_follow_ups

    next_due = next_follow_ups(session)
    owners = dict(session.execute(sa.select(StaffMailbox.id, StaffMailbox.address)).all())
    for rel, org_name, person_name in session.execute(query):
        due = next_due.get(rel.id)
        yield {
            "id": rel.id,
            "name": org_name if rel.organisation_id is not None else person_name,
            "kind": "organization" if rel.organisation_id is not None else "person",
            "type": str(rel.type) if rel.type is not None else None,
            "status": str(rel.status) if rel.status is not None else None,
            "value_percent": rel.value_percent,
            "tier": rel.tier,
            "potential": rel.potential,
            "owner": rel.owner,
            "first_contact_at": _iso(rel.first_contact_at),
            "latest_transaction_on": rel.latest_transaction_on.isoformat() if rel.latest_transaction_on else None,
            "latest_interaction_at": _iso(rel.latest_interaction_at),
            "classified_at": _iso(rel.classified_at),
            # The staff mailbox that gets the follow-ups, and the due day of the open one.
            "owner_mailbox": owners.get(rel.owner_mailbox_id) if rel.owner_mailbox_id else None,
            "next_follow_up": due.date().isoformat() if due else None,
        }


def _grouped(session: Session, query: sa.Select[int, str]) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    for key, value in session.execute(query):
        grouped.setdefault(key, []).append(value)
    return grouped


def _people(session: Session) -> Iterator[dict[str, Any]]:
    emails = _grouped(
        session,
        sa.select(EmailAddress.person_id, EmailAddress.address).order_by(
            EmailAddress.person_id, EmailAddress.is_primary.desc(), EmailAddress.address
        ),
    )
    phones = _grouped(session, sa.select(Phone.person_id, Phone.e164).order_by(Phone.person_id, Phone.e164))
    query = (
        sa.select(Person, Organisation.name)
        .outerjoin(Organisation, Person.organisation_id == Organisation.id)
        .where(Person.merged_into_id.is_(None))
        .order_by(Person.id)
        .execution_options(yield_per=1000)
    )
    for person, org_name in session.execute(query):
        yield {
            "id": person.id,
            "display_name": person.display_name,
            "given_name": person.given_name,
            "surname": person.surname,
            "job_title": person.job_title,
            "organization": org_name,
            "emails": emails.get(person.id, []),
            "phones": phones.get(person.id, []),
            "created_at": _iso(person.created_at),
        }


def _organisations(session: Session) -> Iterator[dict[str, Any]]:
    domains = _grouped(
        session,
        sa.select(OrganisationDomain.organisation_id, OrganisationDomain.domain).order_by(
            OrganisationDomain.organisation_id, OrganisationDomain.domain
        ),
    )
    people = dict(
        session.execute(
            sa.select(Person.organisation_id, sa.func.count())
            .where(Person.merged_into_id.is_(None))
            .group_by(Person.organisation_id)
        ).all()
    )
    query = sa.select(Organisation).where(Organisation.merged_into_id.is_(None)).order_by(Organisation.id)
    for org in session.scalars(query.execution_options(yield_per=1000)):
        yield {
            "id": org.id,
            "name": org.name,
            "domains": domains.get(org.id, []),
            "website": org.website,
            "people": people.get(org.id, 0),
            "created_at": _iso(org.created_at),
        }


def _interactions(session: Session) -> Iterator[dict[str, Any]]:
    viewers = _grouped(
        session,
        sa.select(InteractionViewer.interaction_id, StaffMailbox.address)
        .join(StaffMailbox, StaffMailbox.id == InteractionViewer.mailbox_id)
        .order_by(InteractionViewer.interaction_id, StaffMailbox.address),
    )
    query = sa.select(Interaction).order_by(Interaction.occurred_at, Interaction.id).execution_options(yield_per=500)
    batch: list[Interaction] = []

    def flush(batch: list[Interaction]) -> Iterator[dict[str, Any]]:
        participants: dict[int, list[str]] = {}
        ids = [i.id for i in batch]
        rows = session.execute(
            sa.select(
                InteractionParticipant.interaction_id, InteractionParticipant.role, InteractionParticipant.address
            )
            .where(InteractionParticipant.interaction_id.in_(ids))
            .order_by(InteractionParticipant.interaction_id, InteractionParticipant.id)
        )
        for interaction_id, role, address in rows:
            participants.setdefault(interaction_id, []).append(f"{role.value}:{address}")
        for i in batch:
            yield {
                "id": i.id,
                "kind": i.kind.value,
                "occurred_at": _iso(i.occurred_at),
                "ends_at": _iso(i.ends_at),
                "direction": i.direction.value,
                "subject": i.subject,
                "internet_message_id": i.internet_message_id,
                "ical_uid": i.ical_uid,
                "occurrence_start": _iso(i.occurrence_start),
                "is_all_day": i.is_all_day,
                "is_cancelled": i.is_cancelled,
                "participants": participants.get(i.id, []),
                "mailboxes": viewers.get(i.id, []),
            }

    for interaction in session.scalars(query):
        batch.append(interaction)
        if len(batch) == 500:
            yield from flush(batch)
            batch = []
    if batch:
        yield from flush(batch)


@dataclass(frozen=True)
class StoreTotals:
    """What the store holds, as the demo's closing lines say it."""

    counts: dict[str, int]
    merged: int
    queued: int
    open_follow_ups: int
    owners_with_follow_ups: int


def store_totals(store: Store) -> StoreTotals:
    """People and organisations (not merged away), interactions, relationships; merges by rule,
    pairs waiting for review, open follow-up tasks written to Exchange and in how many owners' folders."""
    with store.session() as s:
        counts = {
            label: int(s.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)
            for label, model, where in (
                ("people", m.Person, (m.Person.merged_into_id.is_(None),)),
                ("organisations", m.Organisation, (m.Organisation.merged_into_id.is_(None),)),
                ("interactions", m.Interaction, ()),
                ("relationships", m.Relationship, ()),
            )
        }
        merged = s.scalar(
            sa.select(sa.func.count())
            .select_from(m.MergeAudit)
            .where(m.MergeAudit.action == "merge", m.MergeAudit.undone_at.is_(None))
        )
        queued = s.scalar(
            sa.select(sa.func.count())
            .select_from(m.MatchCandidate)
            .where(m.MatchCandidate.status == m.MatchStatus.PENDING)
        )
        tasks, owners = s.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(m.FollowUp.owner_mailbox_id))).where(
                m.FollowUp.status == m.FollowUpStatus.OPEN, m.FollowUp.created_in_exchange_at.is_not(None)
            )
        ).one()
    return StoreTotals(counts, int(merged or 0), int(queued or 0), int(tasks), int(owners))
