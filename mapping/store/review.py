"""The duplicate review queue as a store service: list, show, merge, reject, unmerge a pair.

One place for what the CLI (`relsync duplicates ...`) and the web console's review page do with a
candidate pair; each call owns its transaction. Pairs are plain dicts (the printed JSON of
`duplicates list --json` / `duplicates show`, a promise to scripts).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.errors import RelsyncError
from mapping.store.merge import MergeError, MergeRequest, merge, unmerge
from mapping.store.models import (
    EmailAddress,
    MatchCandidate,
    MatchKind,
    MatchStatus,
    MergeAudit,
    Organisation,
    OrganisationDomain,
    Person,
    utcnow,
)
from mapping.store.store import Store


class ReviewError(RelsyncError):
    """A review decision that cannot be made (unknown pair, already decided, nothing to undo)."""


def _describe(session: Session, kind: MatchKind, record_id: int) -> dict[str, Any]:
    if kind is MatchKind.PERSON:
        person = session.get(Person, record_id)
        if person is None:
            return {"id": record_id, "missing": True}
        emails = list(session.scalars(sa.select(EmailAddress.address).where(EmailAddress.person_id == record_id)))
        org = session.get(Organisation, person.organisation_id) if person.organisation_id else None
        return {
            "id": record_id,
            "name": person.display_name,
            "emails": emails,
            "organization": org.name if org else None,
            "job_title": person.job_title,
            "merged_into": person.merged_into_id,
        }
    org = session.get(Organisation, record_id)
    if org is None:
        return {"id": record_id, "missing": True}
    domains = list(
        session.scalars(sa.select(OrganisationDomain.domain).where(OrganisationDomain.organisation_id == record_id))
    )
    return {
        "id": record_id,
        "name": org.name,
        "domains": domains,
        "website": org.website,
        "merged_into": org.merged_into_id,
    }


def _pair_row(session: Session, c: MatchCandidate) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind.value,
        "status": c.status.value,
        "score": round(c.score, 3),
        "a": _describe(session, c.kind, c.a_id),
        "b": _describe(session, c.kind, c.b_id),
        "evidence": c.evidence,
        "decided_by": c.decided_by,
    }


def _pair(session: Session, pair_id: int) -> MatchCandidate:
    candidate = session.get(MatchCandidate, pair_id)
    if candidate is None:
        raise ReviewError(f"no duplicate pair with id {pair_id} (see `relsync duplicates list`)")
    return candidate


def list_pairs(store: Store, status: str = "pending", kind: str | None = None) -> list[dict[str, Any]]:
    """The queue (``status`` pending, merged, rejected or all), best score first."""
    with store.session() as s:
        query = sa.select(MatchCandidate).order_by(MatchCandidate.score.desc(), MatchCandidate.id)
        if status != "all":
            query = query.where(MatchCandidate.status == MatchStatus(status))
        if kind:
            query = query.where(MatchCandidate.kind == MatchKind(kind))
        return [_pair_row(s, c) for c in s.scalars(query)]


def show_pair(store: Store, pair_id: int) -> dict[str, Any]:
    """Both records of a pair side by side, with the evidence."""
    with store.session() as s:
        return _pair_row(s, _pair(s, pair_id))


def merge_pair(store: Store, pair_id: int, actor: str) -> str:
    """Merge a pending pair (the survivor chosen by rule); returns what was done, as a sentence."""
    with store.session() as s:
        c = _pair(s, pair_id)
        if c.status is not MatchStatus.PENDING:
            raise ReviewError(f"pair {pair_id} is already {c.status.value}")
        try:
            audit = merge(s, MergeRequest(c.kind, c.a_id, c.b_id, c.score, c.evidence, actor, c.id))
        except MergeError as exc:
            raise ReviewError(str(exc)) from None
        return f"merged {c.kind.value} {audit.merged_id} into {audit.survivor_id} (audit {audit.id})"


def reject_pair(store: Store, pair_id: int, actor: str) -> str:
    """Not the same: the pair is never proposed again."""
    with store.session() as s:
        c = _pair(s, pair_id)
        if c.status is MatchStatus.MERGED:
            raise ReviewError(f"pair {pair_id} is merged: use `relsync duplicates unmerge {pair_id}`")
        c.status, c.decided_by, c.decided_at = MatchStatus.REJECTED, actor, utcnow()
        return f"rejected pair {pair_id}: it will not be proposed again"


def unmerge_pair(store: Store, pair_id: int, actor: str) -> str:
    """Undo the merge of a pair exactly; the pair then counts as rejected."""
    with store.session() as s:
        _pair(s, pair_id)
        audit = s.scalars(
            sa.select(MergeAudit)
            .where(MergeAudit.candidate_id == pair_id, MergeAudit.action == "merge", MergeAudit.undone_at.is_(None))
            .order_by(MergeAudit.id.desc())
        ).first()
        if audit is None:
            raise ReviewError(f"pair {pair_id} has no merge to undo")
        try:
            unmerge(s, audit.id, actor)
        except MergeError as exc:
            raise ReviewError(str(exc)) from None
        return f"unmerged {audit.kind.value} {audit.merged_id} from {audit.survivor_id}"
