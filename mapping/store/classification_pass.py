"""The classification job's store side: two transactions, each a store service.

1. :func:`open_overrides`: every organisation, and every person without one, gets its relationship
   row; managed categories staff set or removed by hand open or close overrides (before classifying,
   so they count in this very pass).
2. :func:`classify_relationships`: the relationships' facts are loaded, classified (pure:
   :func:`mapping.classify.classify_all`) and stored, and each person's wanted managed categories
   computed, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from mapping.categories import managed_categories
from mapping.classify import classify_all
from mapping.classify_config import ClassificationConfig
from mapping.relationship_records import Classification
from mapping.rules import CompiledRule
from mapping.store.classification import OverrideChanges, record_overrides, save_classifications, wanted_by_person
from mapping.store.facts import ensure_relationships, load_facts

if TYPE_CHECKING:
    from mapping.store.store import Store


def open_overrides(store: Store, config: ClassificationConfig, now: datetime) -> OverrideChanges:
    """Step 1 (see the module docstring), committed."""
    with store.session() as session:
        ensure_relationships(session)
        return record_overrides(session, config, now)


def classify_relationships(
    store: Store, config: ClassificationConfig, rules: Sequence[CompiledRule], now: datetime, *, currency: str | None
) -> tuple[list[Classification], dict[int, tuple[str, ...]]]:
    """Step 2 (see the module docstring), committed: the results, and person id -> wanted categories."""
    with store.session() as session:
        facts = load_facts(
            session,
            now=now,
            value_period_days=config.value_period_days,
            window_days=config.engagement_window_days,
            currency=currency,
        )
        results = classify_all(facts, config, rules, now=now)
        save_classifications(session, facts, results, now)
        names = config.categories
        wanted = wanted_by_person(session, {int(r.id): managed_categories(r, names) for r in results})
    return list(results), wanted
