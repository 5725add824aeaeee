"""Pure report computations for the web console and ``relsync report`` (issue 17).

Plain functions on frozen dataclasses, no I/O: the store services in :mod:`mapping.store.insights` load
aggregates with SQL and call these.

- :mod:`~mapping.reports.overview`: counts by type/status/tier/potential, the tier x potential matrix;
- :mod:`~mapping.reports.pareto`: share of revenue by share of customers, the 80 % mark and who is inside;
- :mod:`~mapping.reports.revenue`: revenue by source, industry, size, product;
- :mod:`~mapping.reports.movement`: tier movement between two dates;
- :mod:`~mapping.reports.cadence`: cadence compliance per owner;
- :mod:`~mapping.reports.quality`: the data steward's lists.
"""

from mapping.reports.cadence import FollowUpBucket, LapsedCount, OwnerCompliance, compliance, lapse_cutoffs
from mapping.reports.errors import ReportInputError
from mapping.reports.movement import Move, Movement, check_range, tier_movement
from mapping.reports.overview import UNCLASSIFIED, ClassCount, Overview, overview
from mapping.reports.pareto import (
    CustomerRevenue,
    Pareto,
    ParetoPoint,
    ParetoShape,
    pareto,
    pareto_shape,
    ranked,
    with_customers,
)
from mapping.reports.quality import QUALITY_LISTS, DataQuality, QualityItem, QualityList, data_quality
from mapping.reports.revenue import OTHER, UNKNOWN, Bar, Breakdown, breakdown

__all__ = [
    "OTHER",
    "QUALITY_LISTS",
    "UNCLASSIFIED",
    "UNKNOWN",
    "Bar",
    "Breakdown",
    "ClassCount",
    "CustomerRevenue",
    "DataQuality",
    "FollowUpBucket",
    "LapsedCount",
    "Move",
    "Movement",
    "Overview",
    "OwnerCompliance",
    "Pareto",
    "ParetoPoint",
    "ParetoShape",
    "QualityItem",
    "QualityList",
    "ReportInputError",
    "breakdown",
    "check_range",
    "compliance",
    "data_quality",
    "lapse_cutoffs",
    "overview",
    "pareto",
    "pareto_shape",
    "ranked",
    "tier_movement",
    "with_customers",
]
