"""Identity resolution against the store: load candidates, score them (pure), apply the decisions.

Above the merge threshold two records are merged by rule (with an audit entry); between the review
and merge thresholds the pair goes to the review queue; a pair staff rejected (or unmerged) is never
proposed again. Organisations are resolved before people, so people of a merged organisation already
share it as evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.identity import (
    Calibration,
    MatchPair,
    OrgCandidate,
    PersonCandidate,
    Thresholds,
    build_org_index,
    build_person_index,
    find_org_duplicates,
    find_person_duplicates,
    fit_calibration,
    full_pass_background,
    match_new,
)
from mapping.identity.calibration_file import CalibrationSet
from mapping.identity.households import household_check
from mapping.identity.people import person_features
from mapping.store import audit
from mapping.store.contact_links import live_contact_links
from mapping.store.merge import MergeRequest, merge
from mapping.store.models import (
    EmailAddress,
    ItemLink,
    MatchCandidate,
    MatchKind,
    MatchStatus,
    Organisation,
    OrganisationDomain,
    Person,
    Phone,
)

if TYPE_CHECKING:
    from mapping.store.store import Store


@dataclass
class ScanResult:
    merged: int = 0
    queued: int = 0
    already_decided: int = 0

    def add(self, other: ScanResult) -> None:
        self.merged += other.merged
        self.queued += other.queued
        self.already_decided += other.already_decided


def _grouped(rows: Iterable[tuple[int, str]]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for key, value in rows:
        out.setdefault(key, []).append(value)
    return out


def org_candidates(session: Session) -> list[OrgCandidate]:
    """Every live organisation as a plain candidate."""
    domains = _grouped(session.execute(sa.select(OrganisationDomain.organisation_id, OrganisationDomain.domain)))
    rows = session.execute(
        sa.select(Organisation.id, Organisation.name, Organisation.website, Organisation.country)
        .where(Organisation.merged_into_id.is_(None))
        .order_by(Organisation.id)
    )
    return [
        OrgCandidate(id=str(i), name=name, domains=tuple(domains.get(i, ())), website=website, country=country)
        for i, name, website, country in rows
    ]


def person_candidates(session: Session, only_since: datetime | None = None) -> list[PersonCandidate]:
    """Every live person (or those created since ``only_since``) as a plain candidate."""
    emails = _grouped(session.execute(sa.select(EmailAddress.person_id, EmailAddress.address)))
    phones = _grouped(session.execute(sa.select(Phone.person_id, Phone.e164)))
    query = (
        sa.select(
            Person.id, Person.display_name, Person.given_name, Person.surname, Person.organisation_id, Organisation.name
        )
        .outerjoin(Organisation, Organisation.id == Person.organisation_id)
        .where(Person.merged_into_id.is_(None))
        .order_by(Person.id)
    )
    if only_since is not None:
        query = query.where(Person.created_at >= only_since)
    return [
        PersonCandidate(
            id=str(i),
            display_name=display,
            given=given,
            surname=surname,
            emails=tuple(emails.get(i, ())),
            phones=tuple(phones.get(i, ())),
            org_id=str(org_id) if org_id is not None else None,
            org_name=org_name,
        )
        for i, display, given, surname, org_id, org_name in session.execute(query)
    ]


def _root(session: Session, kind: MatchKind, record_id: int) -> int:
    model: Any = Person if kind is MatchKind.PERSON else Organisation
    seen = set()
    while record_id not in seen:
        seen.add(record_id)
        parent = session.scalar(sa.select(model.merged_into_id).where(model.id == record_id))
        if parent is None:
            return record_id
        record_id = parent
    return record_id


def _evidence(pair: MatchPair) -> list[dict[str, Any]]:
    return [{"kind": e.kind, "detail": e.detail, "weight": round(e.weight, 3)} for e in pair.score.evidence]


def _candidate(session: Session, kind: MatchKind, a: int, b: int) -> MatchCandidate | None:
    lo, hi = sorted((a, b))
    return session.scalars(
        sa.select(MatchCandidate).where(
            MatchCandidate.kind == kind, MatchCandidate.a_id == lo, MatchCandidate.b_id == hi
        )
    ).one_or_none()


def apply_pairs(session: Session, kind: MatchKind, pairs: Sequence[MatchPair], thresholds: Thresholds) -> ScanResult:
    """Merge by rule, queue for review, or leave alone, pair by pair (best first)."""
    result = ScanResult()
    for pair in sorted(pairs, key=lambda p: -p.score.score):
        if pair.decision == "apart":
            continue
        a, b = int(pair.a), int(pair.b)
        decided = [c for c in (_candidate(session, kind, a, b),) if c is not None and c.status != MatchStatus.PENDING]
        ra, rb = _root(session, kind, a), _root(session, kind, b)
        if ra == rb:
            continue
        decided += [
            c for c in (_candidate(session, kind, ra, rb),) if c is not None and c.status != MatchStatus.PENDING
        ]
        if any(c.status == MatchStatus.REJECTED for c in decided):
            result.already_decided += 1  # staff said no: never again
            continue
        candidate = _candidate(session, kind, ra, rb)
        if pair.decision == "merge":
            if candidate is None:
                lo, hi = sorted((ra, rb))
                candidate = MatchCandidate(
                    kind=kind, a_id=lo, b_id=hi, score=pair.score.score, evidence=_evidence(pair)
                )
                session.add(candidate)
                session.flush()
            merge(
                session,
                MergeRequest(
                    kind,
                    ra,
                    rb,
                    pair.score.score,
                    _evidence(pair),
                    f"rule: score {pair.score.score:.3f} >= merge threshold {thresholds.merge}",
                    candidate.id,
                ),
            )
            result.merged += 1
        elif candidate is None:
            lo, hi = sorted((ra, rb))
            session.add(MatchCandidate(kind=kind, a_id=lo, b_id=hi, score=pair.score.score, evidence=_evidence(pair)))
            session.flush()
            result.queued += 1
        else:
            candidate.score, candidate.evidence = pair.score.score, _evidence(pair)
    return result


def scan(
    session: Session,
    thresholds: Thresholds,
    new_since: datetime | None = None,
    calibrations: CalibrationSet | None = None,
) -> ScanResult:
    """Resolve identities: a full pass, or (``new_since``) only records created since then against all.

    ``calibrations`` (from ``relsync match calibrate``) re-weights each kind's scores; without one, or
    for a kind it has no calibration for, the expert weights decide."""
    result = ScanResult()
    org_cal: Calibration | bool = (calibrations.organization if calibrations else None) or False
    person_cal: Calibration | bool = (calibrations.person if calibrations else None) or False
    orgs = org_candidates(session)
    if new_since is None:
        org_pairs = find_org_duplicates(orgs, thresholds, calibration=org_cal)
    else:
        new_orgs = {
            str(i) for i in session.scalars(sa.select(Organisation.id).where(Organisation.created_at >= new_since))
        }
        fresh = [o for o in orgs if o.id in new_orgs]
        known = build_org_index([o for o in orgs if o.id not in new_orgs])
        org_pairs = match_new(fresh, known, thresholds, calibration=org_cal) if fresh else []
    result.add(apply_pairs(session, MatchKind.ORGANIZATION, org_pairs, thresholds))
    session.flush()
    people = person_candidates(session)
    if new_since is None:
        person_pairs = find_person_duplicates(people, thresholds, calibration=person_cal)
    else:
        fresh_ids = {p.id for p in person_candidates(session, new_since)}
        fresh_people = [p for p in people if p.id in fresh_ids]
        index = build_person_index([p for p in people if p.id not in fresh_ids])
        person_pairs = match_new(fresh_people, index, thresholds, calibration=person_cal) if fresh_people else []
    result.add(apply_pairs(session, MatchKind.PERSON, person_pairs, thresholds))
    return result


@dataclass(frozen=True)
class StoreCalibration:
    """A fit on the store's own data, with what it would change, for the admin to judge before use."""

    calibrations: CalibrationSet
    preview: dict[str, KindPreview]  # per kind ("person", "organization")


@dataclass(frozen=True)
class KindPreview:
    """Decisions over one kind's candidate pairs, with the expert weights and with the fitted ones."""

    pairs: int
    merge_expert: int
    merge_calibrated: int
    review_expert: int
    review_calibrated: int


def _preview(expert: Sequence[MatchPair], calibrated: Sequence[MatchPair]) -> KindPreview:
    def count(pairs: Sequence[MatchPair], decision: str) -> int:
        return sum(p.decision == decision for p in pairs)

    return KindPreview(
        len(expert),
        count(expert, "merge"),
        count(calibrated, "merge"),
        count(expert, "review"),
        count(calibrated, "review"),
    )


def fit_store_calibration(session: Session, thresholds: Thresholds, fitted_at: str) -> StoreCalibration:
    """Fit the evidence weights by EM on every candidate pair of a full pass over the live people and
    organisations (unlabelled: the store's own data), check the people for households, and count what
    the calibrated weights would merge and queue compared with the expert weights. Changes nothing."""
    calibrations: dict[str, Calibration | None] = {}
    preview: dict[str, KindPreview] = {}
    notes = []
    people = person_candidates(session)
    orgs = org_candidates(session)
    passes: tuple[tuple[str, Sequence[OrgCandidate] | Sequence[PersonCandidate], list[MatchPair]], ...] = (
        ("organization", orgs, find_org_duplicates(orgs, thresholds, keep_apart=True)),
        ("person", people, find_person_duplicates(people, thresholds, keep_apart=True)),
    )
    for kind, items, every in passes:
        if not every:
            calibrations[kind] = None
            notes.append(f"{kind}: no candidate pairs, expert weights kept")
            continue
        # Fitted over every pair (the candidates and a sample of the pairs blocking left out), as
        # splink estimates u: on candidates alone a shared surname looks common and weighs too much.
        cal = fit_calibration((p.score for p in every), background=full_pass_background(items, every, thresholds))
        if kind == "person":
            check = household_check(person_features(p) for p in people)
            cal = replace(cal, households=check.households)
            notes.append(f"households: {check.describe()}")
        rescored = [MatchPair(p.a, p.b, cal.rescore(p.score, thresholds)) for p in every]
        calibrations[kind] = cal
        preview[kind] = _preview(every, rescored)
        notes.append(f"{kind}: fitted on {len(every)} candidate pairs")
    result = CalibrationSet(
        person=calibrations.get("person"),
        organization=calibrations.get("organization"),
        fitted_at=fitted_at,
        note="; ".join(notes),
    )
    return StoreCalibration(result, preview)


@dataclass(frozen=True)
class LinkRef:
    """An Outlook contact (by mailbox and item id) behind a store link."""

    link_id: int
    mailbox: str
    item_id: str


def duplicate_category_plan(session: Session, category: str) -> tuple[list[LinkRef], list[LinkRef]]:
    """Which Outlook contacts should get the "possible duplicate" category, and which should lose it.

    The category goes on the contacts of the *newer* person of each pair waiting for review (the one
    that probably duplicates an existing person), and comes off once the pair is merged or rejected.
    """
    pending = set(
        session.scalars(
            sa.select(MatchCandidate.b_id).where(
                MatchCandidate.kind == MatchKind.PERSON, MatchCandidate.status == MatchStatus.PENDING
            )
        )
    )
    wanted = category.casefold()
    add: list[LinkRef] = []
    remove: list[LinkRef] = []
    for c in live_contact_links(session):
        has = any(name.casefold() == wanted for name in c.categories)
        should = c.person_id in pending
        if should and not has:
            add.append(LinkRef(c.link_id, c.mailbox, c.item_id))
        elif has and not should:
            remove.append(LinkRef(c.link_id, c.mailbox, c.item_id))
    return add, remove


def record_categories(
    session: Session, link_id: int, categories: Sequence[str], change_key: str | None, changed: bool = True
) -> None:
    """Remember what an item's categories are after we wrote them (the base of the next comparison);
    audited when relsync changed the item (not when it found the category already right)."""
    link = session.get_one(ItemLink, link_id)
    link.categories = list(categories)
    if change_key:
        link.change_key = change_key
    if not changed:
        return
    audit.exchange_writes(
        session,
        "duplicate_category",
        [(f"link:{link_id}", {"categories": list(categories)})],
        reason="possible duplicate marked",
    )


# --- as store services: each call its own transaction ------------------------------------------------


def resolve(
    store: Store, thresholds: Thresholds, new_since: datetime | None = None, calibrations: CalibrationSet | None = None
) -> ScanResult:
    """:func:`scan`, committed."""
    with store.session() as session:
        return scan(session, thresholds, new_since=new_since, calibrations=calibrations)


def plan_duplicate_category(store: Store, category: str) -> tuple[list[LinkRef], list[LinkRef]]:
    """:func:`duplicate_category_plan`, read in its own transaction."""
    with store.session() as session:
        return duplicate_category_plan(session, category)


def save_categories(
    store: Store, link_id: int, categories: Sequence[str], change_key: str | None, changed: bool = True
) -> None:
    """:func:`record_categories`, committed."""
    with store.session() as session:
        record_categories(session, link_id, categories, change_key, changed)
