"""The business case's sections: ``[keydates]``, ``[referrals]``, ``[groups]``, ``[next_offer]``,
``[what_matters]``, ``[contact_pressure]`` and ``[potential_signals]`` (issue 16).

Every key has a default (the commented block at the end of ``config.example.toml``), so a file without
these sections gets the business case as the seeds describe it. :func:`build_business` turns the
validated sections into the pure layer's settings (:class:`BusinessSettings`) and returns every problem
as a sentence ``FILE: KEY: what. Fix: how`` (a start-up error, exit 2). The catalogue file is read
here too: a file that cannot be read or parsed at all is such a problem; a bad line in it (a duplicate
alias) is a warning kept in :attr:`BusinessSettings.catalogue_problems`, and the rest is used.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mapping.business_policy import BusinessPolicy
from mapping.catalogue import Catalogue, CatalogueProblem, parse_catalogue
from mapping.contact_import.profiles import ATTRIBUTE_FIELDS
from mapping.group_sources import ParentRule
from mapping.keydates import KeyDatePolicy, KeyDateSettings
from mapping.next_offer import DEFAULT_SEGMENTS, Dimension, OfferSettings
from mapping.potential_signals import GrowthSettings
from mapping.what_matters import DEFAULT_FIELD, DEFAULT_LIMIT

_FROZEN = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class KeyDatesSection(BaseModel):
    """``[keydates]``: thank-you and win-back follow-ups (see :mod:`mapping.keydates`)."""

    model_config = _FROZEN

    thank_you: bool = True
    thank_you_min_amount: Decimal = Field(Decimal(10000), ge=0)
    thank_you_within_days: int = Field(7, ge=1, le=365)
    win_back: bool = True
    win_back_mode: Literal["relative", "fixed"] = "relative"
    win_back_factor: float = 2.0
    win_back_fixed_days: int = Field(180, ge=1, le=3650)
    win_back_min_orders: int = Field(3, ge=2, le=1000)
    #: ``[keydates.tiers.<Tier>]``: any of the keys above, replacing the default for that tier.
    tiers: dict[str, dict[str, Any]] = Field(default_factory=dict)


def _import_column(value: str) -> str:
    if value and value not in ATTRIBUTE_FIELDS:
        raise ValueError(
            f"unknown import column {value!r}; use one of {', '.join(sorted(ATTRIBUTE_FIELDS))} "
            '(the fields of `relsync import contacts`), or "" to read none'
        )
    return value


class ReferralsSection(BaseModel):
    """``[referrals]`` (see :mod:`mapping.referrals`). ``import_column``: the field of ``relsync import
    contacts`` whose value names the referrer (kept as the person's user field of that field's name)."""

    model_config = _FROZEN

    user_field: str = "Referred By"
    import_column: str = "referred_by"

    _known_column = field_validator("import_column")(_import_column)
    value_share: Decimal = Field(Decimal("0.1"), ge=0, le=1)
    acknowledge: bool = True
    acknowledge_within_days: int = Field(14, ge=1, le=365)


class ParentRuleSection(BaseModel):
    """``[[groups.rules]]``: ``parent`` and one pattern, ``name`` or ``domain`` (see
    :mod:`mapping.group_sources`)."""

    model_config = _FROZEN

    parent: str = Field(min_length=1, max_length=255)
    name: str | None = Field(None, min_length=1, max_length=255)
    domain: str | None = Field(None, min_length=1, max_length=253)

    @model_validator(mode="after")
    def _one_pattern(self) -> ParentRuleSection:
        if (self.name is None) == (self.domain is None):
            raise ValueError(f"the rule for parent {self.parent!r} needs exactly one of name or domain")
        return self


class GroupsSection(BaseModel):
    """``[groups]`` (see :mod:`mapping.org_groups`)."""

    model_config = _FROZEN

    user_field: str = "Parent Organization"
    import_column: str = "parent"
    rules: list[ParentRuleSection] = Field(default_factory=list)

    _known_column = field_validator("import_column")(_import_column)
    concentration_warning_percent: Decimal = Field(Decimal(25), gt=0, le=100)
    subsidiary_tiers: Literal["individual", "group"] = "individual"


class NextOfferSection(BaseModel):
    """``[next_offer]`` (see :mod:`mapping.next_offer` and :mod:`mapping.catalogue`)."""

    model_config = _FROZEN

    catalogue: Path | None = None
    top: int = Field(3, ge=0, le=20)
    min_peers: int = Field(5, ge=1, le=100000)
    min_support: float = Field(0.1, ge=0, le=1)
    segments: list[list[Dimension]] = Field(default_factory=lambda: [list(s) for s in DEFAULT_SEGMENTS])


class WhatMattersSection(BaseModel):
    """``[what_matters]`` (see :mod:`mapping.what_matters`)."""

    model_config = _FROZEN

    user_field: str = DEFAULT_FIELD
    limit: int = Field(DEFAULT_LIMIT, ge=20, le=4000)


class ContactPressureSection(BaseModel):
    """``[contact_pressure]`` (see :mod:`mapping.contact_pressure`)."""

    model_config = _FROZEN

    min_unanswered: int = Field(3, ge=1, le=1000)


class PotentialSignalsSection(BaseModel):
    """``[potential_signals]`` (see :mod:`mapping.potential_signals`)."""

    model_config = _FROZEN

    growth_weight: float = Field(15.0, ge=0, le=100)
    growth_min_total: Decimal = Field(Decimal(1000), ge=0)


#: The settings the store services take (built below).
BusinessSettings = BusinessPolicy


_KEYDATE_KEYS = frozenset(f.name for f in dataclasses.fields(KeyDateSettings))


def _keydate_settings(section: KeyDatesSection) -> dict[str, Any]:
    return {k: getattr(section, k) for k in _KEYDATE_KEYS}


def build_business(
    keydates: KeyDatesSection,
    referrals: ReferralsSection,
    groups: GroupsSection,
    next_offer: NextOfferSection,
    what_matters: WhatMattersSection,
    pressure: ContactPressureSection,
    potential: PotentialSignalsSection,
    path: Path,
) -> tuple[BusinessSettings, list[str]]:
    """The settings, and every problem as one sentence naming the file and key (empty when valid)."""
    problems: list[str] = []
    default = KeyDateSettings()
    try:
        default = KeyDateSettings(**_keydate_settings(keydates))
    except ValueError as exc:
        problems.append(f"{path}: {exc}. Fix: correct the value in [keydates]")
    tiers: dict[str, KeyDateSettings] = {}
    for tier, table in keydates.tiers.items():
        unknown = sorted(set(table) - _KEYDATE_KEYS)
        if unknown:
            problems.append(
                f"{path}: keydates.tiers.{tier}: unknown key {', '.join(unknown)}. Fix: use only "
                f"{', '.join(sorted(_KEYDATE_KEYS))}"
            )
            continue
        try:
            merged = KeyDatesSection.model_validate({**_keydate_settings(keydates), **table})
            tiers[tier] = KeyDateSettings(**_keydate_settings(merged))
        except ValueError as exc:
            why = str(exc).splitlines()[0] if "validation error" not in str(exc) else str(exc).splitlines()[-1]
            problems.append(f"{path}: keydates.tiers.{tier}: {why.strip()}. Fix: correct the value")
    catalogue, catalogue_problems = Catalogue(), tuple[CatalogueProblem, ...]()
    if next_offer.catalogue is not None:
        file = next_offer.catalogue if next_offer.catalogue.is_absolute() else path.parent / next_offer.catalogue
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            problems.append(
                f"{path}: next_offer.catalogue: {file} does not exist. Fix: correct the path, or "
                "remove the key to use product names as the books write them"
            )
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(
                f"{path}: next_offer.catalogue: {file} cannot be read ({exc}). Fix: check the file "
                "and its permissions (UTF-8 text)"
            )
        else:
            parsed, found = parse_catalogue(text, file.name)
            if found and not parsed.by_key:  # nothing usable: the file as a whole is wrong
                problems.append(
                    f'{path}: next_offer.catalogue: {found[0].message}. Fix: correct the file (README, "Business case")'
                )
            else:
                catalogue, catalogue_problems = parsed, tuple(found)
    segments: tuple[tuple[Dimension, ...], ...] = tuple(tuple(s) for s in next_offer.segments)
    offers = OfferSettings(next_offer.top, next_offer.min_peers, next_offer.min_support, segments)
    settings = BusinessPolicy(
        keydates=KeyDatePolicy(default, tiers),
        referral_field=referrals.user_field,
        referral_import_field=ATTRIBUTE_FIELDS.get(referrals.import_column, ""),
        referral_share=referrals.value_share,
        acknowledge=referrals.acknowledge,
        acknowledge_within_days=referrals.acknowledge_within_days,
        group_field=groups.user_field,
        group_import_field=ATTRIBUTE_FIELDS.get(groups.import_column, ""),
        parent_rules=tuple(ParentRule(r.parent, r.name, r.domain) for r in groups.rules),
        concentration_percent=groups.concentration_warning_percent,
        subsidiary_tiers=groups.subsidiary_tiers,
        offers=offers,
        catalogue=catalogue,
        catalogue_problems=catalogue_problems,
        note_field=what_matters.user_field,
        note_limit=what_matters.limit,
        min_unanswered=pressure.min_unanswered,
        growth=GrowthSettings(potential.growth_weight, potential.growth_min_total),
    )
    return settings, problems
