"""Merging duplicate people or organisations, and undoing it exactly.

A merge keeps every identity: the merged record's e-mail addresses, phones, postal addresses, source
links (Outlook items), interaction participations and follow-ups move to the survivor, and the merged
row stays (``merged_into_id`` set) for audit and undo. A merged person's facts move too (see
:func:`_move_person_facts`): their sales transactions, and their relationship (or, when the survivor
already has one, its staff category overrides and follow-ups). An organisation's facts follow it at
read time instead (the classifier sums a merged organisation's transactions into its survivor).

Surviving values are chosen by clear rules:

1. a value staff typed (the record has an Outlook contact behind it) beats one we generated
   (a person made from an e-mail participant);
2. otherwise the most recently updated non-empty value;
3. otherwise whatever is there (the survivor's own, then the merged one's).

Every merge writes a :class:`MergeAudit` row with the score, evidence and reason, and a snapshot of
what moved; :func:`unmerge` replays the snapshot backwards, so both sides are restored exactly as
they were at merge time (rows added to the survivor later stay with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.errors import RelsyncError
from mapping.store import audit as audit_log
from mapping.store.models import (
    CategoryOverride,
    EmailAddress,
    EntityType,
    FollowUp,
    FollowUpStatus,
    InteractionParticipant,
    ItemKind,
    ItemLink,
    MatchCandidate,
    MatchKind,
    MatchStatus,
    MergeAudit,
    Organisation,
    OrganisationDomain,
    Person,
    Phone,
    PhoneKind,
    PostalAddress,
    Relationship,
    Transaction,
    utcnow,
)

PERSON_FIELDS = (
    "display_name",
    "given_name",
    "middle_name",
    "surname",
    "nickname",
    "job_title",
    "department",
    "organisation_id",
)
ORG_FIELDS = ("name", "normalised_name", "website", "industry", "size", "country", "parent_id")


class MergeError(RelsyncError):
    """A merge or unmerge that cannot be done (unknown id, already merged, already undone)."""


@dataclass(frozen=True)
class MergeRequest:
    kind: MatchKind
    a_id: int
    b_id: int
    score: float | None
    evidence: list[dict[str, Any]]
    reason: str
    candidate_id: int | None = None


def _staff_edited(session: Session, person_id: int) -> bool:
    return bool(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(ItemLink)
            .where(
                ItemLink.entity_type == EntityType.PERSON,
                ItemLink.entity_id == person_id,
                ItemLink.item_kind == ItemKind.CONTACT,
            )
        )
    )


def _completeness(row: Any, fields: tuple[str, ...]) -> int:
    return sum(1 for f in fields if getattr(row, f) not in (None, ""))


def choose_survivor(session: Session, kind: MatchKind, a_id: int, b_id: int) -> tuple[int, int]:
    """(survivor, merged): staff-edited first, then the more complete record, then the older one."""
    if kind is MatchKind.PERSON:
        a, b = session.get_one(Person, a_id), session.get_one(Person, b_id)
        key_a = (_staff_edited(session, a_id), _completeness(a, PERSON_FIELDS), -a_id)
        key_b = (_staff_edited(session, b_id), _completeness(b, PERSON_FIELDS), -b_id)
    else:
        oa, ob = session.get_one(Organisation, a_id), session.get_one(Organisation, b_id)
        domains = {
            oid: session.scalar(
                sa.select(sa.func.count())
                .select_from(OrganisationDomain)
                .where(OrganisationDomain.organisation_id == oid)
            )
            or 0
            for oid in (a_id, b_id)
        }
        key_a = (domains[a_id] > 0, _completeness(oa, ORG_FIELDS), -a_id)
        key_b = (domains[b_id] > 0, _completeness(ob, ORG_FIELDS), -b_id)
    return (a_id, b_id) if key_a >= key_b else (b_id, a_id)


def _surviving_values(
    survivor: Any, merged: Any, fields: tuple[str, ...], survivor_staff: bool, merged_staff: bool
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in fields:
        mine, theirs = getattr(survivor, field), getattr(merged, field)
        if theirs in (None, "") or mine == theirs:
            continue
        empty = mine in (None, "")
        staff_wins = merged_staff and not survivor_staff
        newer = merged_staff == survivor_staff and merged.updated_at > survivor.updated_at
        if empty or staff_wins or newer:
            values[field] = theirs
    return values


def merge(session: Session, request: MergeRequest) -> MergeAudit:
    """Merge two people or organisations (the survivor is chosen by :func:`choose_survivor`)."""
    for record_id in (request.a_id, request.b_id):
        row: Person | Organisation | None = (
            session.get(Person, record_id) if request.kind is MatchKind.PERSON else session.get(Organisation, record_id)
        )
        if row is None:
            raise MergeError(f"no {request.kind.value} with id {record_id}")
        if row.merged_into_id is not None:
            raise MergeError(f"{request.kind.value} {record_id} is already merged into {row.merged_into_id}")
    if request.a_id == request.b_id:
        raise MergeError("cannot merge a record with itself")
    survivor_id, merged_id = choose_survivor(session, request.kind, request.a_id, request.b_id)
    if request.kind is MatchKind.PERSON:
        snapshot = _merge_people(session, survivor_id, merged_id)
    else:
        snapshot = _merge_orgs(session, survivor_id, merged_id)
    audit = MergeAudit(
        kind=request.kind,
        action="merge",
        survivor_id=survivor_id,
        merged_id=merged_id,
        score=request.score,
        evidence=request.evidence,
        reason=request.reason[:255],
        snapshot=snapshot,
        candidate_id=request.candidate_id,
    )
    session.add(audit)
    if request.candidate_id is not None:
        candidate = session.get_one(MatchCandidate, request.candidate_id)
        candidate.status = MatchStatus.MERGED
        candidate.decided_by = request.reason[:255]
        candidate.decided_at = utcnow()
    session.flush()
    audit_log.record(
        session,
        "merge",
        f"merge_{request.kind.value}",
        subject=f"{request.kind.value}:{survivor_id}",
        reason=audit_log.scrub(request.reason),
        detail={
            "survivor_id": survivor_id,
            "merged_id": merged_id,
            "merge_audit_id": audit.id,
            "score": request.score,
            "candidate_id": request.candidate_id,
        },
    )
    return audit


def _ids(session: Session, query: sa.Select[int]) -> list[int]:
    return list(session.scalars(query))


def _merge_people(session: Session, survivor_id: int, merged_id: int) -> dict[str, Any]:
    survivor, merged = session.get_one(Person, survivor_id), session.get_one(Person, merged_id)
    before = {f: getattr(survivor, f) for f in PERSON_FIELDS}
    values = _surviving_values(
        survivor, merged, PERSON_FIELDS, _staff_edited(session, survivor_id), _staff_edited(session, merged_id)
    )
    emails = list(session.scalars(sa.select(EmailAddress).where(EmailAddress.person_id == merged_id)))
    survivor_phones = set(session.scalars(sa.select(Phone.e164).where(Phone.person_id == survivor_id)))
    phones = list(session.scalars(sa.select(Phone).where(Phone.person_id == merged_id)))
    moved_phones = [p.id for p in phones if p.e164 not in survivor_phones]
    dropped_phones = [
        {"id": p.id, "e164": p.e164, "raw": p.raw, "kind": p.kind.value, "label": p.label}
        for p in phones
        if p.e164 in survivor_phones
    ]
    snapshot: dict[str, Any] = {
        "survivor_before": before,
        "emails": [[e.id, e.is_primary] for e in emails],
        "phones": moved_phones,
        "dropped_phones": dropped_phones,
        "postal": _ids(session, sa.select(PostalAddress.id).where(PostalAddress.person_id == merged_id)),
        "links": _ids(
            session,
            sa.select(ItemLink.id).where(ItemLink.entity_type == EntityType.PERSON, ItemLink.entity_id == merged_id),
        ),
        "participants": _ids(
            session, sa.select(InteractionParticipant.id).where(InteractionParticipant.person_id == merged_id)
        ),
        "follow_ups": _ids(session, sa.select(FollowUp.id).where(FollowUp.person_id == merged_id)),
    }
    for email in emails:
        email.person_id = survivor_id
        email.is_primary = False  # the survivor keeps its primary address
    for phone in phones:
        if phone.id in moved_phones:
            phone.person_id = survivor_id
        else:
            session.delete(phone)
    session.execute(
        sa.update(PostalAddress).where(PostalAddress.id.in_(snapshot["postal"])).values(person_id=survivor_id)
    )
    session.execute(sa.update(ItemLink).where(ItemLink.id.in_(snapshot["links"])).values(entity_id=survivor_id))
    session.execute(
        sa.update(InteractionParticipant)
        .where(InteractionParticipant.id.in_(snapshot["participants"]))
        .values(person_id=survivor_id)
    )
    session.execute(sa.update(FollowUp).where(FollowUp.id.in_(snapshot["follow_ups"])).values(person_id=survivor_id))
    for field, value in values.items():
        setattr(survivor, field, value)
    merged.merged_into_id = survivor_id
    snapshot["facts"] = _move_person_facts(session, survivor_id, merged_id, survivor.organisation_id)
    return snapshot


def _move_person_facts(
    session: Session, survivor_id: int, merged_id: int, survivor_org_id: int | None
) -> dict[str, Any]:
    """Move a merged person's transactions and relationship to the survivor; what moved, for undo.

    The merged person's relationship row itself moves when the survivor is classified as a person
    (no organisation) and has none: owner, overrides, follow-ups and history come along. Otherwise
    the survivor already has a relationship (its own, or its organisation's): the staff category
    overrides and the follow-ups of the merged one move to it (an open follow-up only when the same
    owner has none open there: one open task per owner), and the merged row stays with the merged
    person, unused, so that unmerge finds it as it was.
    """
    facts: dict[str, Any] = {
        "transactions": _ids(session, sa.select(Transaction.id).where(Transaction.person_id == merged_id)),
        "relationship": None,
        "overrides": [],
        "relationship_follow_ups": [],
    }
    session.execute(
        sa.update(Transaction).where(Transaction.id.in_(facts["transactions"])).values(person_id=survivor_id)
    )
    theirs = session.scalar(sa.select(Relationship.id).where(Relationship.person_id == merged_id))
    if theirs is None:
        return facts
    target = session.scalar(sa.select(Relationship.id).where(Relationship.person_id == survivor_id))
    if target is None and survivor_org_id is not None:
        target = session.scalar(sa.select(Relationship.id).where(Relationship.organisation_id == survivor_org_id))
    if target is None:
        if survivor_org_id is None:
            facts["relationship"] = theirs
            session.execute(sa.update(Relationship).where(Relationship.id == theirs).values(person_id=survivor_id))
        return facts
    facts["overrides"] = _ids(session, sa.select(CategoryOverride.id).where(CategoryOverride.relationship_id == theirs))
    busy = set(
        session.scalars(
            sa.select(FollowUp.owner_mailbox_id).where(
                FollowUp.relationship_id == target, FollowUp.status == FollowUpStatus.OPEN
            )
        )
    )
    follow_ups = session.execute(
        sa.select(FollowUp.id, FollowUp.owner_mailbox_id, FollowUp.status).where(FollowUp.relationship_id == theirs)
    ).all()
    facts["relationship_follow_ups"] = [
        fid for fid, owner, status in follow_ups if status != FollowUpStatus.OPEN or owner not in busy
    ]
    session.execute(
        sa.update(CategoryOverride).where(CategoryOverride.id.in_(facts["overrides"])).values(relationship_id=target)
    )
    session.execute(
        sa.update(FollowUp).where(FollowUp.id.in_(facts["relationship_follow_ups"])).values(relationship_id=target)
    )
    return facts


def _restore_person_facts(session: Session, merged_id: int, facts: dict[str, Any]) -> None:
    """Undo :func:`_move_person_facts` (a merge recorded before facts moved has none to undo)."""
    session.execute(sa.update(Transaction).where(Transaction.id.in_(facts["transactions"])).values(person_id=merged_id))
    if facts["relationship"] is not None:
        session.execute(
            sa.update(Relationship).where(Relationship.id == facts["relationship"]).values(person_id=merged_id)
        )
    theirs = session.scalar(sa.select(Relationship.id).where(Relationship.person_id == merged_id))
    if theirs is None:
        return
    session.execute(
        sa.update(CategoryOverride).where(CategoryOverride.id.in_(facts["overrides"])).values(relationship_id=theirs)
    )
    session.execute(
        sa.update(FollowUp).where(FollowUp.id.in_(facts["relationship_follow_ups"])).values(relationship_id=theirs)
    )


def _merge_orgs(session: Session, survivor_id: int, merged_id: int) -> dict[str, Any]:
    survivor, merged = session.get_one(Organisation, survivor_id), session.get_one(Organisation, merged_id)
    before = {f: getattr(survivor, f) for f in ORG_FIELDS}
    values = _surviving_values(survivor, merged, ORG_FIELDS, False, False)
    values.pop("normalised_name", None)  # the survivor's name decides its key
    if values.get("parent_id") == survivor_id:
        values.pop("parent_id")
    snapshot: dict[str, Any] = {
        "survivor_before": before,
        "domains": _ids(
            session, sa.select(OrganisationDomain.id).where(OrganisationDomain.organisation_id == merged_id)
        ),
        "people": _ids(session, sa.select(Person.id).where(Person.organisation_id == merged_id)),
        "children": _ids(session, sa.select(Organisation.id).where(Organisation.parent_id == merged_id)),
        "follow_ups": _ids(session, sa.select(FollowUp.id).where(FollowUp.organisation_id == merged_id)),
    }
    session.execute(
        sa.update(OrganisationDomain)
        .where(OrganisationDomain.id.in_(snapshot["domains"]))
        .values(organisation_id=survivor_id)
    )
    session.execute(sa.update(Person).where(Person.id.in_(snapshot["people"])).values(organisation_id=survivor_id))
    session.execute(
        sa.update(Organisation).where(Organisation.id.in_(snapshot["children"])).values(parent_id=survivor_id)
    )
    session.execute(
        sa.update(FollowUp).where(FollowUp.id.in_(snapshot["follow_ups"])).values(organisation_id=survivor_id)
    )
    session.expire_all()
    survivor = session.get_one(Organisation, survivor_id)
    merged = session.get_one(Organisation, merged_id)
    for field, value in values.items():
        setattr(survivor, field, value)
    merged.merged_into_id = survivor_id
    return snapshot


def unmerge(session: Session, audit_id: int, actor: str) -> MergeAudit:
    """Undo a merge exactly; the pair is then marked rejected so it is not merged again by rule."""
    audit = session.get(MergeAudit, audit_id)
    if audit is None or audit.action != "merge":
        raise MergeError(f"no merge with id {audit_id}")
    if audit.undone_at is not None:
        raise MergeError(f"merge {audit_id} was already undone")
    later = session.scalar(
        sa.select(sa.func.count())
        .select_from(MergeAudit)
        .where(
            MergeAudit.kind == audit.kind,
            MergeAudit.action == "merge",
            MergeAudit.undone_at.is_(None),
            MergeAudit.id > audit.id,
            MergeAudit.merged_id == audit.survivor_id,
        )
    )
    if later:
        raise MergeError(f"the survivor of merge {audit_id} was merged again later: undo that merge first")
    snap: dict[str, Any] = dict(audit.snapshot)
    s_id, m_id = audit.survivor_id, audit.merged_id
    if audit.kind is MatchKind.PERSON:
        for email_id, was_primary in snap["emails"]:
            session.execute(
                sa.update(EmailAddress)
                .where(EmailAddress.id == email_id)
                .values(person_id=m_id, is_primary=was_primary)
            )
        session.execute(sa.update(Phone).where(Phone.id.in_(snap["phones"])).values(person_id=m_id))
        for phone in snap["dropped_phones"]:
            # Same id as before the merge, so the restored row is the row it was.
            session.add(
                Phone(
                    id=phone["id"],
                    person_id=m_id,
                    e164=phone["e164"],
                    raw=phone["raw"],
                    kind=PhoneKind(phone["kind"]),
                    label=phone["label"],
                )
            )
        session.execute(sa.update(PostalAddress).where(PostalAddress.id.in_(snap["postal"])).values(person_id=m_id))
        session.execute(sa.update(ItemLink).where(ItemLink.id.in_(snap["links"])).values(entity_id=m_id))
        session.execute(
            sa.update(InteractionParticipant)
            .where(InteractionParticipant.id.in_(snap["participants"]))
            .values(person_id=m_id)
        )
        session.execute(sa.update(FollowUp).where(FollowUp.id.in_(snap["follow_ups"])).values(person_id=m_id))
        if "facts" in snap:
            _restore_person_facts(session, m_id, snap["facts"])
        session.execute(sa.update(Person).where(Person.id == s_id).values(**snap["survivor_before"]))
        session.execute(sa.update(Person).where(Person.id == m_id).values(merged_into_id=None))
    else:
        session.execute(
            sa.update(OrganisationDomain).where(OrganisationDomain.id.in_(snap["domains"])).values(organisation_id=m_id)
        )
        session.execute(sa.update(Person).where(Person.id.in_(snap["people"])).values(organisation_id=m_id))
        session.execute(sa.update(Organisation).where(Organisation.id.in_(snap["children"])).values(parent_id=m_id))
        session.execute(sa.update(FollowUp).where(FollowUp.id.in_(snap["follow_ups"])).values(organisation_id=m_id))
        session.execute(sa.update(Organisation).where(Organisation.id == s_id).values(**snap["survivor_before"]))
        session.execute(sa.update(Organisation).where(Organisation.id == m_id).values(merged_into_id=None))
    now = utcnow()
    audit.undone_at = now
    undo = MergeAudit(
        kind=audit.kind,
        action="unmerge",
        survivor_id=s_id,
        merged_id=m_id,
        score=audit.score,
        evidence=audit.evidence,
        reason=f"unmerge of {audit.id} by {actor}"[:255],
        snapshot={},
        candidate_id=audit.candidate_id,
    )
    session.add(undo)
    a_id, b_id = sorted((s_id, m_id))
    candidate = session.scalars(
        sa.select(MatchCandidate).where(
            MatchCandidate.kind == audit.kind, MatchCandidate.a_id == a_id, MatchCandidate.b_id == b_id
        )
    ).one_or_none()
    if candidate is None:
        candidate = MatchCandidate(
            kind=audit.kind, a_id=a_id, b_id=b_id, score=audit.score or 0.0, evidence=audit.evidence
        )
        session.add(candidate)
    candidate.status = MatchStatus.REJECTED
    candidate.decided_by = actor[:255]
    candidate.decided_at = now
    session.flush()
    audit_log.record(
        session,
        "merge",
        f"unmerge_{audit.kind.value}",
        subject=f"{audit.kind.value}:{s_id}",
        reason=audit_log.scrub(f"unmerge of {audit.id} by {actor}"),
        detail={"survivor_id": s_id, "merged_id": m_id, "merge_audit_id": audit.id, "undo_id": undo.id},
    )
    session.expire_all()
    return undo
