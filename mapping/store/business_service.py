"""The business case's store services for the CLI (``status``, ``followups --problems``, ``explain``,
``demo``): each call one transaction (see :mod:`mapping.store.business`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.business_policy import BusinessPolicy
from mapping.contact_pressure import Pressure, over_contacted
from mapping.followups import FollowUpPolicy
from mapping.store.business import BusinessView, analyse, pressure_inputs
from mapping.store.business_inputs import load_relationships
from mapping.store.models import FollowUp, FollowUpStatus, Relationship
from mapping.store.models_business import FollowUpTrigger
from mapping.what_matters import Note, explain_lines

if TYPE_CHECKING:
    from mapping.store.store import Store


@dataclass(frozen=True)
class GroupConcentration:
    """One parent group's share of revenue (``relsync report``): its root's name, how many
    organisations it holds, its revenue over the value period, its share, and the warning above the limit."""

    root_id: int
    name: str
    members: int
    revenue: Decimal
    percent: Decimal
    warning: str | None


@dataclass(frozen=True)
class BusinessSummary:
    """Open follow-ups carrying each kind of trigger, the concentration warnings, the problems."""

    open_by_kind: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class BusinessStore:
    """Reads of the business case for the CLI, against one store."""

    def __init__(
        self, store: Store, policy: BusinessPolicy, *, value_period_days: int = 365, currency: str | None = None
    ) -> None:
        self.store, self.policy = store, policy
        self.value_period_days, self.currency = value_period_days, currency

    def _groups(self, session: Session, now: datetime) -> BusinessView:
        """The parent groups' shares and warnings (the analysis without per-relationship triggers)."""
        return analyse(
            session,
            self.policy,
            now,
            value_period_days=self.value_period_days,
            currency=self.currency,
            groups_only=True,
        )

    def concentration_warnings(self, now: datetime) -> list[str]:
        """The groups above the concentration limit, one sentence each (``relsync status``)."""
        with self.store.session() as session:
            view = self._groups(session, now)
        return view.warnings

    def concentration(self, now: datetime, *, top: int = 20) -> tuple[Decimal, list[GroupConcentration]]:
        """The concentration limit and the groups for the report: every group above the limit, then the
        largest groups of two or more organisations, up to ``top`` in all, largest share first."""
        with self.store.session() as session:
            view = self._groups(session, now)
        members: Counter[int] = Counter(view.root_of.values())
        warned = [g for g in view.groups if g.warning]
        grouped = [g for g in view.groups if not g.warning and members[g.root_id] > 1]
        out = [
            GroupConcentration(
                g.root_id,
                view.names.get(g.root_id, str(g.root_id)),
                members[g.root_id],
                g.revenue,
                g.percent,
                g.warning,
            )
            for g in [*warned, *grouped][: max(top, len(warned))]
        ]
        return self.policy.concentration_percent, out

    def over_contacted(self, followups: FollowUpPolicy, now: datetime) -> list[Pressure]:
        """Relationships our side wrote to more often than their cadence calls for, without an answer."""
        with self.store.session() as session:
            rels = load_relationships(session)
            potentials = dict(session.execute(sa.select(Relationship.id, Relationship.potential)).all())
            inputs = pressure_inputs(session, rels, followups, now, potentials)
        return over_contacted(inputs, now, self.policy.min_unanswered)

    def summary(self, now: datetime) -> BusinessSummary:
        """What the business case put into Outlook (``relsync demo``)."""
        with self.store.session() as session:
            view = self._groups(session, now)
            counts = Counter(
                {
                    str(kind): int(n)
                    for kind, n in session.execute(
                        sa.select(FollowUpTrigger.kind, sa.func.count(sa.distinct(FollowUpTrigger.follow_up_id)))
                        .join(FollowUp, FollowUp.id == FollowUpTrigger.follow_up_id)
                        .where(FollowUpTrigger.state == "carried", FollowUp.status == FollowUpStatus.OPEN)
                        .group_by(FollowUpTrigger.kind)
                    )
                }
            )
        return BusinessSummary(dict(counts), view.warnings, view.problems)

    def explain(
        self, relationship_ids: list[int], followups: FollowUpPolicy | None, now: datetime
    ) -> dict[int, dict[str, Any]]:
        """Relationship id -> the business case's part of ``relsync explain``."""
        if not relationship_ids:
            return {}
        with self.store.session() as session:
            view = analyse(
                session,
                self.policy,
                now,
                value_period_days=self.value_period_days,
                currency=self.currency,
                followups=followups,
                only=frozenset(relationship_ids),
            )
            carried: dict[int, list[str]] = {}
            for rid, line in session.execute(
                sa.select(FollowUpTrigger.relationship_id, FollowUpTrigger.line).where(
                    FollowUpTrigger.relationship_id.in_(relationship_ids), FollowUpTrigger.state == "carried"
                )
            ):
                carried.setdefault(rid, []).append(line)
        return {rid: _explained(rid, view, carried.get(rid, [])) for rid in relationship_ids}


def _explained(rid: int, view: BusinessView, carried: list[str]) -> dict[str, Any]:
    lp = view.lapses.get(rid)
    rv = view.referral_values.get(rid)
    root = view.root_of.get(rid, rid)
    share = next((g for g in view.groups if g.root_id == root), None)
    p = view.pressure.get(rid)
    note = view.notes.get(rid, Note(None))
    referrer = view.referrer_of.get(rid)
    return {
        "what_matters": explain_lines(note),
        "key_dates": {
            "triggers": [t.line for t in view.triggers.get(rid, [])],
            "carried": carried,
            "lapse": None
            if lp is None
            else {
                "lapsed": lp.lapsed,
                "days_since_last_order": lp.days_since_last_order,
                "threshold_days": lp.threshold_days,
                "basis": lp.basis,
            },
        },
        "referrals": {
            "referred_by": view.names.get(referrer) if referrer is not None else None,
            "source": view.referral_source.get(rid),
            "own": str(rv.own) if rv else None,
            "referred": str(rv.referred) if rv else None,
            "credited": str(rv.credited) if rv else None,
            "referred_count": rv.referred_count if rv else 0,
        },
        "group": {
            "root": view.names.get(root),
            "via": view.parent_source.get(rid),
            "revenue": str(share.revenue) if share else None,
            "percent": str(share.percent) if share else None,
            "warning": share.warning if share else None,
        },
        "next_offer": [s.line() for s in view.offers.get(rid, [])],
        "contact_pressure": p.line if p else None,
        "growth_points": view.growth_points.get(rid, 0.0),
    }
