"""The business case in the store (issue 16): one analysis, set-based, inside the caller's transaction.

:func:`analyse` loads what the pure layer needs (:mod:`mapping.store.business_inputs`) and runs it:

- **key dates** (:mod:`mapping.keydates`): thank-you triggers for large recent orders, a win-back trigger
  for a customer whose buying lapsed, each by the relationship's tier settings;
- **referrals** (:mod:`mapping.referrals`): who referred whom (the contact's user field, the contact
  import's column, referral-credit transactions naming the referred customer: in that order of
  trust), what each referrer brought, and an *acknowledge the referral* trigger on the referrer
  when a referred customer first buys;
- **parent organisations** (:mod:`mapping.org_groups`): groups (the organisations' parent links, the
  user field, the import column, the configured rules, the confirmed domain families:
  :mod:`mapping.group_sources`), their revenue and each group's share, with the concentration warning;
- **what to offer next** (:mod:`mapping.next_offer`) from the sales history's products mapped to the
  catalogue (:mod:`mapping.catalogue`);
- **what matters** (:mod:`mapping.what_matters`): the note, kept in ``relationship_notes`` so a note
  too long is reported once per change;
- **contact pressure** (:mod:`mapping.contact_pressure`);
- **growth in order value** (:mod:`mapping.potential_signals`).

Problems (a referral to oneself, a parent cycle, a duplicate catalogue alias, a 10 KB note) are one
sentence each naming the item, logged at warning and returned; the rest proceeds.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import structlog
from sqlalchemy.orm import Session

from mapping.business_policy import BusinessPolicy
from mapping.contact_pressure import Pressure, PressureInput, over_contacted
from mapping.followups import Cadence, FollowUpPolicy
from mapping.group_sources import domain_families, family_links, rule_links
from mapping.hygiene import domain_family
from mapping.keydates import Lapse, lapse, thank_you_triggers, win_back_trigger
from mapping.next_offer import Profile, Suggestion, suggest_all
from mapping.org_groups import GroupShare, ParentLink, concentration, group_revenue, resolve_groups
from mapping.potential_signals import order_growth_points
from mapping.referrals import (
    ReferralClaim,
    ReferralValue,
    referral_ack_triggers,
    referral_values,
    resolve_referrals,
)
from mapping.store.business_inputs import (
    Relationships,
    Sales,
    confirmed_families,
    load_relationships,
    load_sales,
    load_user_fields,
    org_profiles,
    organisation_parents,
    referral_credits,
)
from mapping.store.business_pressure import unanswered_outbound
from mapping.store.models import Relationship
from mapping.store.models_business import RelationshipNote
from mapping.trigger_planning import Trigger
from mapping.what_matters import Note, what_matters

log = structlog.get_logger(__name__)


@dataclass
class BusinessView:
    """What one analysis found, per relationship id, and the problems (one sentence each)."""

    names: dict[int, str]
    triggers: dict[int, list[Trigger]] = field(default_factory=lambda: defaultdict(list))
    lapses: dict[int, Lapse] = field(default_factory=dict)
    referrer_of: dict[int, int] = field(default_factory=dict)
    referral_source: dict[int, str] = field(default_factory=dict)  # referred -> the claim that won
    referral_values: dict[int, ReferralValue] = field(default_factory=dict)
    root_of: dict[int, int] = field(default_factory=dict)
    parent_source: dict[int, str] = field(default_factory=dict)  # member -> the link that put it in
    groups: list[GroupShare] = field(default_factory=list)
    offers: dict[int, list[Suggestion]] = field(default_factory=dict)
    notes: dict[int, Note] = field(default_factory=dict)
    pressure: dict[int, Pressure] = field(default_factory=dict)
    growth_points: dict[int, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    unmatched: dict[str, int] = field(default_factory=dict)  # user field -> values naming nobody

    @property
    def warnings(self) -> list[str]:
        """The concentration warnings (status line and report)."""
        return [g.warning for g in self.groups if g.warning]


def analyse(
    session: Session,
    policy: BusinessPolicy,
    now: datetime,
    *,
    today: Mapping[int, date] | None = None,
    value_period_days: int = 365,
    currency: str | None = None,
    followups: FollowUpPolicy | None = None,
    only: frozenset[int] | None = None,
    groups_only: bool = False,
) -> BusinessView:
    """Everything the business case decides, for every relationship (``only``: those, for ``explain``).

    ``today``: each relationship's calendar day in its owner's time zone (default: ``now``'s UTC day).
    ``followups``: the cadence and methods per tier and potential (contact pressure needs them).
    ``groups_only``: only the parent groups and their concentration (``relsync status``).
    """
    rels = load_relationships(session)
    default_day = now.date()
    day = today or {}
    view = BusinessView(rels.names)
    sales = load_sales(session, rels, default_day, value_period_days, currency)
    fields = load_user_fields(session, rels, policy.stored_fields)
    _groups(session, view, policy, rels, sales, fields)
    if groups_only:
        return view
    _key_dates(view, policy, rels, sales, day, default_day, only)
    _referrals(session, view, policy, rels, sales, fields, day, default_day)
    _offers(view, policy, rels, sales, only)
    _notes(session, view, policy, rels, fields.get(policy.note_field, {}), now)
    if followups is not None:
        _pressure(session, view, policy, rels, followups, now)
    for rid in sales.recent_orders.keys() | sales.previous_orders.keys():
        points = order_growth_points(
            sales.recent_orders.get(rid, Decimal(0)), sales.previous_orders.get(rid, Decimal(0)), policy.growth
        )
        if points:
            view.growth_points[rid] = points
    for p in policy.catalogue_problems:
        view.problems.append(p.message)
    for message in view.problems:
        log.warning("business case: item skipped", problem=message)
    for name, n in view.unmatched.items():
        if n:
            log.debug("user field values naming no known relationship", field=name, values=n)
    return view


def _key_dates(
    view: BusinessView,
    policy: BusinessPolicy,
    rels: Relationships,
    sales: Sales,
    day: Mapping[int, date],
    default_day: date,
    only: frozenset[int] | None,
) -> None:
    for rid, orders in sales.orders.items():
        if only is not None and rid not in only:
            continue
        today = day.get(rid, default_day)
        s = policy.keydates.settings_for(rels.tiers.get(rid))
        recent = [o for o in orders if 0 <= (today - o.day).days < s.thank_you_within_days]
        view.triggers[rid].extend(thank_you_triggers(rid, recent, today, s))
        days = [o.day for o in orders]
        won = win_back_trigger(rid, days, today, s)
        if won is not None:
            view.triggers[rid].append(won)
        lp = lapse(days, today, s)
        if lp is not None:
            view.lapses[rid] = lp


def referral_claims(
    session: Session, policy: BusinessPolicy, rels: Relationships, fields: Mapping[str, Mapping[int, str]]
) -> tuple[list[ReferralClaim], dict[str, int]]:
    """Every referral claim, in the order of trust (the first claim for a relationship wins): the
    contact's Outlook user field, the contact import's column, then referral-credit transactions
    naming the referred customer. Also how many values of each source named no one."""
    claims: list[ReferralClaim] = []
    unmatched: dict[str, int] = {}
    sources = [(policy.referral_field, f"user field {policy.referral_field!r}")]
    if policy.referral_import_field and policy.referral_import_field != policy.referral_field:
        sources.append(
            (policy.referral_import_field, f"contact import's column (user field {policy.referral_import_field!r})")
        )
    for name, source in sources:
        unmatched[name] = 0
        for rid, text in sorted(fields.get(name, {}).items()):
            referrer = rels.find(text)
            if referrer is None:
                unmatched[name] += 1
                continue
            claims.append(ReferralClaim(rid, referrer, source))
    label = "sales history's referred column"
    unmatched[label] = 0
    for credit in referral_credits(session, rels):
        if credit.referred is None:
            unmatched[label] += 1
            continue
        source = f"referral credit, {credit.source_file} line {credit.line}"
        claims.append(ReferralClaim(credit.referred, credit.referrer, source))
    return claims, unmatched


def parent_links(
    session: Session, policy: BusinessPolicy, rels: Relationships, fields: Mapping[str, Mapping[int, str]]
) -> tuple[list[ParentLink], list[str], dict[str, int]]:
    """Every parent link, in the order of trust: the organisations' own parent links, the Outlook user
    field, the contact import's column, the configured rules, then the confirmed domain families.
    Also the rules' problems, and how many user-field values named no organisation."""
    links = [
        ParentLink(child, parent, "organisation's parent") for child, parent in organisation_parents(session, rels)
    ]
    unmatched: dict[str, int] = {}
    sources = [(policy.group_field, f"user field {policy.group_field!r}")]
    if policy.group_import_field and policy.group_import_field != policy.group_field:
        sources.append(
            (policy.group_import_field, f"contact import's column (user field {policy.group_import_field!r})")
        )
    for name, source in sources:
        unmatched[name] = 0
        for rid, text in sorted(fields.get(name, {}).items()):
            parent = rels.find(text)
            if parent is None or parent not in rels.organisations or rid not in rels.organisations:
                unmatched[name] += 1
                continue
            links.append(ParentLink(rid, parent, source))
    problems: list[str] = []
    confirmed = confirmed_families(session)
    if policy.parent_rules or confirmed:
        orgs = org_profiles(session, rels)
        by_rule, rule_problems = rule_links(orgs, policy.parent_rules, lambda text: _organisation(rels, text))
        links += by_rule
        problems += [p.message for p in rule_problems]
        if confirmed:
            # Only domains that can be of a confirmed family pay for the public suffix lookup.
            def family_of(domain: str) -> str | None:
                return domain_family(domain) if any(f in domain for f in confirmed) else None

            links += family_links(domain_families(orgs, family_of), confirmed)
    return links, problems, unmatched


def _organisation(rels: Relationships, text: str) -> int | None:
    found = rels.find(text)
    return found if found in rels.organisations else None


@dataclass(frozen=True)
class Links:
    """Who referred whom and each organisation's group (what classification weighs), and the problems."""

    referrer_of: dict[int, int]
    root_of: dict[int, int]
    problems: list[str]


def links(session: Session, policy: BusinessPolicy) -> Links:
    """The resolved referrals and parent groups alone, for classification (no sales analysis)."""
    rels = load_relationships(session)
    fields = load_user_fields(session, rels, policy.stored_fields)
    claims, _ = referral_claims(session, policy, rels, fields)
    referrer_of, referral_problems = resolve_referrals(claims, rels.names)
    found, problems, _ = parent_links(session, policy, rels, fields)
    root_of, group_problems = resolve_groups(rels.organisations, found, rels.names)
    return Links(
        referrer_of,
        root_of,
        [*(p.message for p in referral_problems), *problems, *(p.message for p in group_problems)],
    )


def _referrals(
    session: Session,
    view: BusinessView,
    policy: BusinessPolicy,
    rels: Relationships,
    sales: Sales,
    fields: Mapping[str, Mapping[int, str]],
    day: Mapping[int, date],
    default_day: date,
) -> None:
    claims, unmatched = referral_claims(session, policy, rels, fields)
    view.unmatched.update(unmatched)
    referrer_of, problems = resolve_referrals(claims, rels.names)
    view.problems += [p.message for p in problems]
    view.referrer_of = referrer_of
    for c in claims:
        if referrer_of.get(c.referred_id) == c.referrer_id:
            view.referral_source.setdefault(c.referred_id, c.source)
    view.referral_values = referral_values(dict(sales.net), referrer_of, policy.referral_share)
    if policy.acknowledge and referrer_of:
        first = sales.first_order()
        # The referrer's owner gets it: the referrer's calendar day.
        by_day: dict[date, dict[int, int]] = defaultdict(dict)
        for child, parent in referrer_of.items():
            by_day[day.get(parent, default_day)][child] = parent
        for today, pairs in by_day.items():
            for t in referral_ack_triggers(pairs, first, today, policy.acknowledge_within_days, rels.names):
                view.triggers[t.relationship_id].append(t)


def _groups(
    session: Session,
    view: BusinessView,
    policy: BusinessPolicy,
    rels: Relationships,
    sales: Sales,
    fields: Mapping[str, Mapping[int, str]],
) -> None:
    found, problems, unmatched = parent_links(session, policy, rels, fields)
    view.unmatched.update(unmatched)
    root_of, group_problems = resolve_groups(rels.organisations, found, rels.names)
    view.problems += problems + [p.message for p in group_problems]
    view.root_of = root_of
    for ln in found:
        if root_of.get(ln.child_id, ln.child_id) != ln.child_id and ln.child_id != ln.parent_id:
            view.parent_source.setdefault(ln.child_id, ln.source)
    revenue = group_revenue(root_of, {rid: sales.net.get(rid, Decimal(0)) for rid in rels.organisations})
    if any(r > 0 for r in revenue.values()):
        view.groups = concentration(revenue, policy.concentration_percent, _group_names(rels, root_of))


def _group_names(rels: Relationships, root_of: Mapping[int, int]) -> dict[int, str]:
    members: dict[int, int] = defaultdict(int)
    for root in root_of.values():
        members[root] += 1
    return {
        root: rels.names.get(root, str(root)) + (f" group ({n} organisations)" if n > 1 else "")
        for root, n in members.items()
    }


def _offers(
    view: BusinessView, policy: BusinessPolicy, rels: Relationships, sales: Sales, only: frozenset[int] | None
) -> None:
    if policy.offers.top <= 0 or not sales.products:
        return
    raw = [p for _, p in sales.products]
    canonical = policy.catalogue.resolve_many(raw) if policy.catalogue.by_key else raw
    purchases = [(rid, c) for (rid, _), c in zip(sales.products, canonical, strict=True)]
    profiles = [Profile(rid, rels.industry.get(rid), rels.size.get(rid), rels.tiers.get(rid)) for rid in rels.names]
    found = suggest_all(profiles, purchases, policy.offers)
    view.offers = {rid: s for rid, s in found.items() if s and (only is None or rid in only)}


def _notes(
    session: Session,
    view: BusinessView,
    policy: BusinessPolicy,
    rels: Relationships,
    values: Mapping[int, str],
    now: datetime,
) -> None:
    stored = {n.relationship_id: n for n in session.scalars(sa.select(RelationshipNote))}
    for rid, raw in values.items():
        note = what_matters(rels.names.get(rid, str(rid)), raw, policy.note_limit, policy.note_field)
        view.notes[rid] = note
        digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()
        row = stored.get(rid)
        if row is not None and row.raw_hash == digest:
            continue  # unchanged: reported (if at all) when it changed
        if note.problem:
            view.problems.append(note.problem)
        if row is None:
            session.add(
                RelationshipNote(
                    relationship_id=rid, text=note.text, problem=note.problem, raw_hash=digest, updated_at=now
                )
            )
        else:
            row.text, row.problem, row.raw_hash, row.updated_at = note.text, note.problem, digest, now
    gone = [rid for rid in stored if rid not in values]
    if gone:
        session.execute(sa.delete(RelationshipNote).where(RelationshipNote.relationship_id.in_(gone)))
    session.flush()


def pressure_inputs(
    session: Session,
    rels: Relationships,
    followups: FollowUpPolicy,
    now: datetime,
    potentials: Mapping[int, str | None],
) -> list[PressureInput]:
    """Contact pressure's inputs: each relationship's unanswered messages, its cadence and methods."""
    horizon = max(followups.horizon_days(), 90)
    out = []
    for rid, times in unanswered_outbound(session, rels, now, horizon).items():
        plan = followups.tier_plan(rels.tiers.get(rid))
        days = plan.approx_days() if isinstance(plan, Cadence) else None
        methods = tuple(followups.methods.get(potentials.get(rid) or "", ("e-mail",)))
        out.append(PressureInput(rid, rels.names.get(rid, str(rid)), days, times, methods))
    return out


def _pressure(
    session: Session,
    view: BusinessView,
    policy: BusinessPolicy,
    rels: Relationships,
    followups: FollowUpPolicy,
    now: datetime,
) -> None:
    potentials = dict(session.execute(sa.select(Relationship.id, Relationship.potential)).all())
    inputs = pressure_inputs(session, rels, followups, now, potentials)
    view.pressure = {p.relationship_id: p for p in over_contacted(inputs, now, policy.min_unanswered)}
