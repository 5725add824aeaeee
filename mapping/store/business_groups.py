"""Domain families the admin confirms as parent groups (``relsync groups families`` / ``confirm`` /
``unconfirm``): one store service, one transaction per call.

A *candidate* is a family (:func:`mapping.hygiene.domain_family`) that two or more live organisations'
domains share (:func:`mapping.group_sources.domain_families`), with the parent a confirmation would
pick (:func:`mapping.group_sources.suggest_parent`: the largest revenue over the value period). Confirming
stores the family with its parent's relationship in ``group_families``; from the next analysis on, the
family's other members are that parent's subsidiaries (:func:`mapping.store.business.parent_links`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.errors import EXIT_USAGE, RelsyncError
from mapping.group_sources import Family, domain_families, suggest_parent
from mapping.hygiene import domain_family
from mapping.store.business_inputs import (
    Relationships,
    confirmed_families,
    load_relationships,
    load_sales,
    org_profiles,
)
from mapping.store.models_business import GroupFamily

if TYPE_CHECKING:
    from mapping.store.store import Store


class GroupFamilyError(RelsyncError):
    """A family or parent argument that names nothing the store has."""

    exit_code = EXIT_USAGE
    topic = "groups"


@dataclass(frozen=True)
class FamilyView:
    """One family: its members (name and the domains that put it in), the parent a confirmation picks or
    picked, and whether it is confirmed."""

    family: str
    members: list[tuple[str, tuple[str, ...]]]
    parent: str
    confirmed: bool


class GroupFamilies:
    """The domain families of one store."""

    def __init__(self, store: Store, *, value_period_days: int = 365, currency: str | None = None) -> None:
        self.store = store
        self.value_period_days, self.currency = value_period_days, currency

    def families(self, now: datetime) -> list[FamilyView]:
        """Every family two or more organisations share, confirmed or not (by family name)."""
        with self.store.session() as session:
            rels = load_relationships(session)
            found = domain_families(org_profiles(session, rels), domain_family)
            confirmed = confirmed_families(session)
            revenue = self._revenue(session, rels, now) if found else {}
        out = []
        for f in found:
            parent = confirmed.get(f.family) or suggest_parent(f, revenue, rels.names)
            out.append(
                FamilyView(
                    f.family,
                    [(rels.names.get(rid, str(rid)), f.domains[rid]) for rid in f.members],
                    rels.names.get(parent, str(parent)),
                    f.family in confirmed,
                )
            )
        return out

    def confirm(self, family: str, parent: str | None, by: str, now: datetime) -> FamilyView:
        """Confirm ``family`` as one group under ``parent`` (a member's name; None: the suggested one)."""
        key = family.strip().casefold()
        with self.store.session() as session:
            rels = load_relationships(session)
            found = {f.family: f for f in domain_families(org_profiles(session, rels), domain_family)}
            fam = found.get(key)
            if fam is None:
                known = ", ".join(sorted(found)) or "none yet"
                raise GroupFamilyError(
                    f"FAMILY {family!r} is not a domain family two organisations share (families: {known}). "
                    "Fix: pick one from `relsync groups families`"
                )
            chosen = self._parent(fam, parent, rels.names) if parent else None
            if chosen is None:
                chosen = suggest_parent(fam, self._revenue(session, rels, now), rels.names)
            row = session.scalar(sa.select(GroupFamily).where(GroupFamily.family == key))
            if row is None:
                session.add(GroupFamily(family=key, parent_relationship_id=chosen, confirmed_by=by, confirmed_at=now))
            else:
                row.parent_relationship_id, row.confirmed_by, row.confirmed_at = chosen, by[:255], now
            return FamilyView(
                key,
                [(rels.names.get(rid, str(rid)), fam.domains[rid]) for rid in fam.members],
                rels.names.get(chosen, str(chosen)),
                True,
            )

    def unconfirm(self, family: str) -> bool:
        """Withdraw a confirmation (its members stand alone again, unless another source links them)."""
        with self.store.session() as session:
            result = session.execute(sa.delete(GroupFamily).where(GroupFamily.family == family.strip().casefold()))
            return bool(getattr(result, "rowcount", 0))

    def _revenue(self, session: Session, rels: Relationships, now: datetime) -> dict[int, Decimal]:
        sales = load_sales(session, rels, now.date(), self.value_period_days, self.currency)
        return dict(sales.net)

    @staticmethod
    def _parent(fam: Family, parent: str, names: dict[int, str]) -> int:
        wanted = parent.strip().casefold()
        hits = [rid for rid in fam.members if names.get(rid, "").casefold() == wanted]
        if len(hits) != 1:
            members = ", ".join(repr(names.get(rid, str(rid))) for rid in fam.members)
            raise GroupFamilyError(
                f"--parent {parent!r} is not one member of family {fam.family!r} ({members}). "
                "Fix: give one of these names exactly, or leave --parent out for the suggested one"
            )
        return hits[0]
