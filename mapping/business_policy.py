"""The business case's settings as the store services take them (issue 16): plain and frozen.

Built from ``[keydates]`` ... ``[potential_signals]`` by :func:`scheduler.config_business.build_business`;
each field's meaning is documented with its pure function and in README "Business case".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from mapping.catalogue import Catalogue, CatalogueProblem
from mapping.classify_business import TierMode
from mapping.group_sources import ParentRule
from mapping.keydates import KeyDatePolicy
from mapping.next_offer import OfferSettings
from mapping.potential_signals import GrowthSettings
from mapping.what_matters import DEFAULT_FIELD, DEFAULT_LIMIT


@dataclass(frozen=True)
class BusinessPolicy:
    """Key dates, referrals, groups, next offer, what matters, contact pressure, growth."""

    keydates: KeyDatePolicy = field(default_factory=KeyDatePolicy)
    referral_field: str = "Referred By"
    #: The user field ``relsync import contacts`` writes its ``referred_by`` column into ("": not read).
    referral_import_field: str = "Referred By"
    referral_share: Decimal = Decimal("0.1")
    acknowledge: bool = True
    acknowledge_within_days: int = 14
    group_field: str = "Parent Organization"
    #: The user field ``relsync import contacts`` writes its ``parent`` column into ("": not read).
    group_import_field: str = "Parent"
    parent_rules: tuple[ParentRule, ...] = ()
    concentration_percent: Decimal = Decimal(25)
    subsidiary_tiers: TierMode = "individual"
    offers: OfferSettings = field(default_factory=OfferSettings)
    catalogue: Catalogue = field(default_factory=Catalogue)
    catalogue_problems: tuple[CatalogueProblem, ...] = ()
    note_field: str = DEFAULT_FIELD
    note_limit: int = DEFAULT_LIMIT
    min_unanswered: int = 3
    growth: GrowthSettings = field(default_factory=GrowthSettings)

    @property
    def user_fields(self) -> tuple[str, ...]:
        """The Outlook user-defined fields the business case reads on sync."""
        return tuple(dict.fromkeys(f for f in (self.referral_field, self.group_field, self.note_field) if f))

    @property
    def stored_fields(self) -> tuple[str, ...]:
        """Every user field the analysis reads from the store: the Outlook ones and the import's."""
        extra = (self.referral_import_field, self.group_import_field)
        return tuple(dict.fromkeys([*self.user_fields, *(f for f in extra if f)]))
