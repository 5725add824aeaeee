"""What the reports take from the configuration (:class:`mapping.store.insights.ReportSettings`).

One builder for ``relsync report`` and the web console, so both order tiers, read cadences and sum
revenue the same way.
"""

from __future__ import annotations

from mapping.followups import Cadence
from mapping.store.insights import ReportSettings
from scheduler.config import LoadedConfig
from scheduler.config_followups import build_policy


def report_settings(loaded: LoadedConfig) -> ReportSettings:
    """Tiers and potentials best first (the configuration lists them lowest first), each tier's cadence
    in days, the value period and currency classification uses, the statuses the follow-up plan covers."""
    classification = loaded.classification
    policy = build_policy(loaded.config.followups, classification, loaded.path)[0]
    return ReportSettings(
        tier_order=tuple(reversed(classification.tier_names)),
        potential_order=tuple(reversed(classification.potential_names)),
        cadence_days={tier: plan.approx_days() for tier, plan in policy.cadences.items() if isinstance(plan, Cadence)},
        value_period_days=classification.value_period_days,
        currency=loaded.config.classification.currency,
        followup_statuses=tuple(sorted(policy.statuses)),
    )


__all__ = ["report_settings"]
