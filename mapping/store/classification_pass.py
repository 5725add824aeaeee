"""The classification job's store side: two transactions, each a store service.

1. :func:`open_overrides`: every organisation, and every person without one, gets its relationship
   row; managed categories staff set or removed by hand open or close overrides (before classifying,
   so they count in this very pass).
2. :func:`classify_relationships`: the relationships' facts are loaded with the business case's
   referrals and parent groups (:func:`mapping.store.business.links`), classified (pure:
   :func:`mapping.classify.classify_all`) and stored, and each person's wanted managed categories
   computed, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from mapping.business_policy import BusinessPolicy
from mapping.categories import managed_categories
from mapping.classify import classify_all
from mapping.classify_business import BusinessLinks
from mapping.classify_config import ClassificationConfig
from mapping.relationship_records import Classification
from mapping.rules import CompiledRule
from mapping.store.business import links
from mapping.store.classification import OverrideChanges, record_overrides, save_classifications, wanted_by_person
from mapping.store.facts import ensure_relationships, load_facts

if TYPE_CHECKING:
    from mapping.store.store import Store


def open_overrides(store: Store, config: ClassificationConfig, now: datetime) -> OverrideChanges:
    """Step 1 (see the module docstring), committed."""
    with store.session() as session:
        ensure_relationships(session)
        return record_overrides(session, config, now)


def business_links(session: Session, policy: BusinessPolicy) -> BusinessLinks:
    """Referrals and parent groups as classification takes them (ids as the facts' strings)."""
    found = links(session, policy)
    return BusinessLinks(
        referrer_of={str(c): str(p) for c, p in found.referrer_of.items()},
        referral_share=policy.referral_share,
        root_of={str(c): str(r) for c, r in found.root_of.items() if c != r},
        subsidiary_tiers=policy.subsidiary_tiers,
        growth=policy.growth,
    )


def classify_relationships(
    store: Store,
    config: ClassificationConfig,
    rules: Sequence[CompiledRule],
    now: datetime,
    *,
    currency: str | None,
    business: BusinessPolicy | None = None,
) -> tuple[list[Classification], dict[int, tuple[str, ...]]]:
    """Step 2 (see the module docstring), committed: the results, and person id -> wanted categories.
    ``business``: the business case's settings (referral share, subsidiary tiers, growth); without
    them, classification weighs no referral, group or growth."""
    with store.session() as session:
        facts = load_facts(
            session,
            now=now,
            value_period_days=config.value_period_days,
            window_days=config.engagement_window_days,
            currency=currency,
        )
        linked = business_links(session, business) if business is not None else None
        results = classify_all(facts, config, rules, now=now, business=linked)
        save_classifications(session, facts, results, now)
        names = config.categories
        wanted = wanted_by_person(session, {int(r.id): managed_categories(r, names) for r in results})
    return list(results), wanted
