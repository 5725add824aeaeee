"""Plain records of classification: what the store side hands in, and what classification hands back.

:class:`RelationshipFacts` is one relationship (an organisation or a person) as the store sees it, with
money already summed over the configured value period and interactions already counted per window.
:class:`Classification` is the verdict on it, with enough of the *why* for ``relsync explain``.

Conventions (as in :mod:`mapping.records`): datetimes are timezone-aware (UTC), enumerated strings are
lower-case (``"sales partner"``, ``"active"``), money is :class:`~decimal.Decimal`. Tier and potential
are the *names* configured in :class:`mapping.classify_config.ClassificationConfig` (``"Superior"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

RelationshipType = Literal["lead", "prospect", "customer", "sales partner", "vendor"]
Status = Literal["active", "inactive", "archive"]
Kind = Literal["organization", "person"]
#: What classification decides and what staff may override (through categories or ``overrides``).
Dimension = Literal["type", "status", "tier", "potential", "owner"]

RELATIONSHIP_TYPES: tuple[RelationshipType, ...] = ("lead", "prospect", "customer", "sales partner", "vendor")
STATUSES: tuple[Status, ...] = ("active", "inactive", "archive")
DIMENSIONS: tuple[Dimension, ...] = ("type", "status", "tier", "potential", "owner")

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class RelationshipFacts:
    """Everything classification may look at for one relationship. Built by the store side.

    Money (over the configured value period, ``ClassificationConfig.value_period_days``):
    ``orders`` (gross order amounts), ``returns`` (returned orders, a positive amount that is
    subtracted), ``referral_credits`` (business this relationship referred to us, credited to it);
    ``orders_previous``: gross orders of the value period before this one (growth in order value).

    History (any period): ``transaction_count`` counts every transaction (orders, returns, referral
    credits); ``order_count`` counts orders only; it is what makes a *customer*.

    Interactions are counted in two windows of ``ClassificationConfig.engagement_window_days``: the
    recent one (ending now) and the one before it; the trend between them drives potential.

    ``user_fields`` are the contact's PS_PUBLIC_STRINGS fields ("Source", "Referred By", "Industry");
    ``overrides`` maps a :data:`Dimension` to the value staff set by hand (in Outlook): they win over
    everything. ``user_fields`` and ``overrides`` are dicts for convenience: do not mutate them (this
    also means the record is not hashable).
    """

    id: str
    kind: Kind
    name: str
    orders: Decimal = _ZERO
    returns: Decimal = _ZERO
    referral_credits: Decimal = _ZERO
    orders_previous: Decimal = _ZERO  # gross orders of the value period before (growth in order value)
    transaction_count: int = 0
    order_count: int = 0
    first_contact_at: datetime | None = None
    latest_transaction_at: datetime | None = None
    latest_interaction_at: datetime | None = None
    latest_inbound_at: datetime | None = None
    inbound_recent: int = 0
    outbound_recent: int = 0
    meetings_recent: int = 0
    inbound_previous: int = 0
    outbound_previous: int = 0
    meetings_previous: int = 0
    size: str | None = None
    industry: str | None = None
    geography: str | None = None  # country
    products: tuple[str, ...] = ()
    source: str | None = None  # campaign, referral, web, phone, ...
    referred_by: str | None = None
    referrals_made: int = 0
    parent_name: str | None = None
    user_fields: dict[str, str] = field(default_factory=dict)
    overrides: Mapping[str, str] = field(default_factory=dict)

    @property
    def net_revenue(self) -> Decimal:
        """Orders - returns + referral credits, over the value period."""
        return self.orders - self.returns + self.referral_credits


@dataclass(frozen=True, slots=True)
class Classification:
    """The verdict on one relationship.

    ``value_percent``: 1..100 for relationships with positive net revenue (their percentile among
    those, the best = 100), 0 for none, -1..-100 for a loss (relative to the largest loss; see
    :mod:`mapping.classify`). ``value_rank``: 1 = the largest positive net revenue, ties broken by id;
    ``None`` when net revenue is not positive.

    ``fired_rules``: the business rules that matched, in order (``"name (line N)"`` when the line is
    known). ``overridden``: the dimensions whose value came from a staff override. ``inputs``: the facts
    and the derived figures the rules saw, for ``relsync explain``. ``potential_signals``: how many
    points each potential signal contributed to ``potential_score``. ``notes``: anything surprising
    (a rule that failed to evaluate on this relationship, an override naming an unknown tier).
    ``referral_credit`` and ``group``: the business case's part of value and tier (issue 16; see
    :mod:`mapping.classify_business`).
    """

    id: str
    type: RelationshipType
    status: Status
    value_percent: float
    tier: str
    potential: str
    owner: str | None
    fired_rules: tuple[str, ...]
    inputs: dict[str, Any]
    overridden: tuple[Dimension, ...]
    net_revenue: Decimal = _ZERO
    value_rank: int | None = None
    potential_score: float = 0.0
    potential_signals: tuple[tuple[str, float], ...] = ()
    notes: tuple[str, ...] = ()
    referral_credit: Decimal = _ZERO  # the share of referred customers' revenue counted in the value
    group: GroupTier | None = None  # the parent group's value and tier (members of a group only)


@dataclass(frozen=True, slots=True)
class GroupTier:
    """A group member's parent group: its root, the group's value percent and tier (ranked among
    groups and relationships outside any group), and whether the member took that tier."""

    root_id: str
    root_name: str
    value_percent: int
    tier: str
    inherited: bool
