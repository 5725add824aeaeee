"""Store service of the data quality report: each list counted in SQL, its first rows loaded.

The lists (keys as in :data:`mapping.reports.QUALITY_LISTS`):

* ``people_without_valid_address``: live people with no e-mail address marked valid;
* ``contacts_without_organisation``: live people that are an Outlook contact somewhere and have no
  organisation;
* ``organisations_without_domain``: live organisations without any domain;
* ``pending_duplicates``: match candidates waiting for review, both names side by side;
* ``unmatched_sales_rows``: sales rows matched to no organisation and no person.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from mapping.reports import DataQuality, QualityItem, data_quality
from mapping.store.models import (
    EmailAddress,
    EntityType,
    ItemKind,
    ItemLink,
    MatchCandidate,
    MatchKind,
    MatchStatus,
    Organisation,
    OrganisationDomain,
    Person,
    Transaction,
)
from mapping.store.store import Store


def _count_and_first(session: Session, query: Any, order: Any, limit: int) -> tuple[int, list[Any]]:
    total = int(session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)
    rows = list(session.execute(query.order_by(*order).limit(limit))) if limit > 0 else []
    return total, rows


def _people_without_valid_address(session: Session, limit: int) -> tuple[int, list[QualityItem]]:
    p = Person
    valid = sa.exists().where(EmailAddress.person_id == p.id, EmailAddress.is_valid.is_(True))
    query = sa.select(p.id, p.display_name).where(p.merged_into_id.is_(None), ~valid)
    total, rows = _count_and_first(session, query, (p.display_name, p.id), limit)
    return total, [QualityItem(pid, name, "no valid e-mail address") for pid, name in rows]


def _contacts_without_organisation(session: Session, limit: int) -> tuple[int, list[QualityItem]]:
    p = Person
    is_contact = sa.exists().where(
        ItemLink.entity_type == EntityType.PERSON,
        ItemLink.entity_id == p.id,
        ItemLink.item_kind == ItemKind.CONTACT,
        ItemLink.deleted_at.is_(None),
    )
    query = sa.select(p.id, p.display_name).where(p.merged_into_id.is_(None), p.organisation_id.is_(None), is_contact)
    total, rows = _count_and_first(session, query, (p.display_name, p.id), limit)
    return total, [QualityItem(pid, name, "an Outlook contact with no organisation") for pid, name in rows]


def _organisations_without_domain(session: Session, limit: int) -> tuple[int, list[QualityItem]]:
    o = Organisation
    has_domain = sa.exists().where(OrganisationDomain.organisation_id == o.id)
    query = sa.select(o.id, o.name, o.website).where(o.merged_into_id.is_(None), ~has_domain)
    total, rows = _count_and_first(session, query, (o.name, o.id), limit)
    return total, [
        QualityItem(oid, name, f"website {website}" if website else "no domain, no website")
        for oid, name, website in rows
    ]


def _pending_duplicates(session: Session, limit: int) -> tuple[int, list[QualityItem]]:
    c = MatchCandidate
    pa, pb = aliased(Person), aliased(Person)
    oa, ob = aliased(Organisation), aliased(Organisation)
    is_person = c.kind == MatchKind.PERSON
    is_org = c.kind == MatchKind.ORGANIZATION
    query = (
        sa.select(
            c.id,
            c.kind,
            c.score,
            sa.func.coalesce(pa.display_name, oa.name),
            sa.func.coalesce(pb.display_name, ob.name),
        )
        .outerjoin(pa, sa.and_(is_person, pa.id == c.a_id))
        .outerjoin(pb, sa.and_(is_person, pb.id == c.b_id))
        .outerjoin(oa, sa.and_(is_org, oa.id == c.a_id))
        .outerjoin(ob, sa.and_(is_org, ob.id == c.b_id))
        .where(c.status == MatchStatus.PENDING)
    )
    total, rows = _count_and_first(session, query, (c.score.desc(), c.id), limit)
    return total, [
        QualityItem(cid, f"{a or '?'} / {b or '?'}", f"{getattr(kind, 'value', kind)} pair, score {score:.2f}")
        for cid, kind, score, a, b in rows
    ]


def _unmatched_sales_rows(session: Session, limit: int) -> tuple[int, list[QualityItem]]:
    t = Transaction
    query = sa.select(t.id, t.customer_key, t.source_file, t.source_line, t.occurred_on, t.amount, t.currency).where(
        t.organisation_id.is_(None), t.person_id.is_(None)
    )
    total, rows = _count_and_first(session, query, (t.customer_key, t.id), limit)
    return total, [
        QualityItem(tid, key, f"{source} line {line}: {amount} {currency} on {day.isoformat()}")
        for tid, key, source, line, day, amount, currency in rows
    ]


def quality_report(store: Store, limit: int = 50) -> DataQuality:
    """Every data quality list: its total, and its first ``limit`` rows."""
    with store.session() as s:
        found = {
            "people_without_valid_address": _people_without_valid_address(s, limit),
            "contacts_without_organisation": _contacts_without_organisation(s, limit),
            "organisations_without_domain": _organisations_without_domain(s, limit),
            "pending_duplicates": _pending_duplicates(s, limit),
            "unmatched_sales_rows": _unmatched_sales_rows(s, limit),
        }
    return data_quality({key: (total, items) for key, (total, items) in found.items()})


__all__ = ["quality_report"]
