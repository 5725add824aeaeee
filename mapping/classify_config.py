"""Configuration records of classification: value and potential classes, status thresholds, categories.

The scheduler builds these from the TOML file; constructing :class:`ClassificationConfig` validates the
whole record and raises one :class:`ClassificationConfigError` listing *every* problem with its key
(``value_classes[2].lower``), so an admin fixes the file in one go. The defaults are the business case's
tables (``shared/seeds``):

=============  =========  =================================
value %        class      plan
=============  =========  =================================
<= 0           Eliminate  recommend a competitor
1 - 24         Marginal   quarterly contact
25 - 75        Average    monthly contact
76 - 100       Superior   weekly contact
=============  =========  =================================

=========  ==============================
potential  methods of interaction
=========  ==============================
Low        e-mail only
Average    telephone, e-mail
High       face to face, telephone, e-mail
=========  ==============================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from mapping.relationship_records import RELATIONSHIP_TYPES, STATUSES, RelationshipType, Status

#: Outlook's category colours: "None" or Preset0 (red) .. Preset24.
_PRESET = re.compile(r"^(None|Preset([0-9]|1[0-9]|2[0-4]))$")


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem in the configuration: where (``key``, and ``line`` when the caller knows it) and what."""

    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.key} (line {self.line})" if self.line is not None else self.key
        return f"{where}: {self.message}"


class ClassificationConfigError(ValueError):
    """The classification configuration is invalid; ``problems`` lists every problem found."""

    heading = "invalid classification configuration"

    def __init__(self, problems: list[ConfigProblem] | tuple[ConfigProblem, ...]) -> None:
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        super().__init__(f"{self.heading}:\n" + "\n".join(f"  {p}" for p in self.problems))


@dataclass(frozen=True, slots=True)
class ValueClass:
    """A value tier: values ``lower <= v <= upper`` (percent) belong to it; ``None`` is unbounded.

    Value percentages are whole numbers (see :mod:`mapping.classify`), so ``Marginal 1-24`` and
    ``Average 25-75`` are contiguous.
    """

    name: str
    lower: float | None
    upper: float | None
    colour: str = "None"


@dataclass(frozen=True, slots=True)
class PotentialClass:
    """A potential class: scores ``>= min_score`` belong to it (the lowest class has ``None``).

    ``methods``: the methods of interaction staff use for it (shown in follow-up tasks).
    """

    name: str
    min_score: float | None
    methods: tuple[str, ...]
    colour: str = "None"


@dataclass(frozen=True, slots=True)
class PotentialSignals:
    """How the potential score (roughly -trend_weight..100 with the defaults) is made.

    - engagement trend, in -1..1: ``(recent - previous) / max(recent + previous, trend_min_total)``
      where a window's engagement is inbound + outbound + ``meeting_weight`` x meetings;
    - recency of inbound interest, in 0..1: 1 for an inbound message today, falling linearly to 0 at
      ``inbound_horizon_days``;
    - size, in 0..1: ``size_scores[size.casefold()]`` (unknown sizes score 0);
    - referrals made, in 0..1: ``min(1, referrals_made / referrals_full)``.

    Each signal is multiplied by its weight; the sum is compared with ``PotentialClass.min_score``.
    """

    trend_weight: float = 40.0
    inbound_weight: float = 30.0
    size_weight: float = 15.0
    referrals_weight: float = 15.0
    meeting_weight: float = 3.0
    trend_min_total: float = 4.0
    inbound_horizon_days: float = 90.0
    referrals_full: float = 3.0
    size_scores: Mapping[str, float] = field(
        default_factory=lambda: {"small": 0.25, "medium": 0.5, "large": 0.75, "enterprise": 1.0}
    )


@dataclass(frozen=True, slots=True)
class StatusThresholds:
    """Active if an interaction or transaction within ``active_days``, inactive within ``inactive_days``,
    else archive."""

    active_days: int = 90
    inactive_days: int = 365


@dataclass(frozen=True, slots=True)
class CategoryNames:
    """The Outlook category names relsync manages. Templates use ``{tier}``, ``{potential}``, ``{status}``.

    ``status_template`` is ``None`` by default: status is not written as a category (it changes with
    time alone, and would rewrite every contact as it ages).
    """

    type_names: Mapping[RelationshipType, str] = field(
        default_factory=lambda: {
            "lead": "Lead",
            "prospect": "Prospect",
            "customer": "Customer",
            "sales partner": "Sales partner",
            "vendor": "Vendor",
        }
    )
    value_template: str = "Value: {tier}"
    potential_template: str = "Potential: {potential}"
    status_template: str | None = None
    status_names: Mapping[Status, str] = field(
        default_factory=lambda: {"active": "Active", "inactive": "Inactive", "archive": "Archive"}
    )
    type_colour: str = "Preset8"
    status_colour: str = "Preset12"
    #: "Owner: {owner}": the managed owner choice. Staff set one of these on a contact to make that
    #: staff member the relationship's explicit owner; relsync writes it where a rule names the owner.
    owner_template: str | None = "Owner: {owner}"
    #: Owner address (lower case) -> the name shown after "Owner: ". Only these owners get a category.
    owner_labels: Mapping[str, str] = field(default_factory=dict)
    owner_colour: str = "Preset9"

    def owner_category(self, owner: str | None) -> str | None:
        """The category standing for ``owner`` (an address), or None when it has none."""
        if self.owner_template is None or not owner:
            return None
        label = self.owner_labels.get(owner.casefold())
        return self.owner_template.format(owner=label) if label else None

    def owner_of_label(self, label: str) -> str | None:
        """The owner address a category's label stands for (case-insensitive)."""
        folded = label.casefold()
        return next((a for a, name in self.owner_labels.items() if name.casefold() == folded), None)


DEFAULT_VALUE_CLASSES: tuple[ValueClass, ...] = (
    ValueClass("Eliminate", None, 0, "Preset0"),
    ValueClass("Marginal", 1, 24, "Preset1"),
    ValueClass("Average", 25, 75, "Preset3"),
    ValueClass("Superior", 76, 100, "Preset4"),
)

DEFAULT_POTENTIAL_CLASSES: tuple[PotentialClass, ...] = (
    PotentialClass("Low", None, ("e-mail",), "Preset12"),
    PotentialClass("Average", 25.0, ("telephone", "e-mail"), "Preset5"),
    PotentialClass("High", 55.0, ("face to face", "telephone", "e-mail"), "Preset7"),
)

#: The text attributes of a relationship an Outlook user-defined field may supply.
USER_FIELD_ATTRIBUTES: tuple[str, ...] = ("source", "referred_by", "industry", "size", "geography", "parent_name")

#: Attribute -> the contact's user-defined field that supplies it (the field wins when it is non-empty).
DEFAULT_USER_FIELD_MAP: Mapping[str, str] = {"source": "Source", "referred_by": "Referred By", "industry": "Industry"}


@dataclass(frozen=True, slots=True)
class ClassificationConfig:
    """Everything classification is configured with. Validated on construction."""

    value_classes: tuple[ValueClass, ...] = DEFAULT_VALUE_CLASSES
    potential_classes: tuple[PotentialClass, ...] = DEFAULT_POTENTIAL_CLASSES
    potential_signals: PotentialSignals = field(default_factory=PotentialSignals)
    status: StatusThresholds = field(default_factory=StatusThresholds)
    #: Days of transactions summed into the value (the store side sums them).
    value_period_days: int = 365
    #: Length of each of the two interaction windows compared for the engagement trend.
    engagement_window_days: int = 90
    categories: CategoryNames = field(default_factory=CategoryNames)
    user_field_map: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_USER_FIELD_MAP))

    def __post_init__(self) -> None:
        problems = validate_config(self)
        if problems:
            raise ClassificationConfigError(problems)

    @property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.value_classes)

    @property
    def potential_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.potential_classes)


def _check_names(key: str, names: list[str], problems: list[ConfigProblem]) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if not name.strip():
            problems.append(ConfigProblem(f"{key}[{i}].name", "must not be empty"))
        elif name.casefold() in seen:
            problems.append(ConfigProblem(f"{key}[{i}].name", f"duplicate name {name!r}"))
        seen.add(name.casefold())


def _check_colour(key: str, colour: str, problems: list[ConfigProblem]) -> None:
    if not _PRESET.match(colour):
        problems.append(ConfigProblem(key, f"unknown Outlook colour {colour!r} (use None or Preset0..Preset24)"))


def validate_config(config: ClassificationConfig) -> list[ConfigProblem]:
    """Every problem of ``config`` (empty when valid)."""
    problems: list[ConfigProblem] = []
    vcs = config.value_classes
    if not 3 <= len(vcs) <= 5:
        problems.append(ConfigProblem("value_classes", f"needs 3 to 5 classes, has {len(vcs)}"))
    _check_names("value_classes", [c.name for c in vcs], problems)
    for i, c in enumerate(vcs):
        _check_colour(f"value_classes[{i}].colour", c.colour, problems)
        if c.lower is not None and c.upper is not None and c.lower > c.upper:
            problems.append(ConfigProblem(f"value_classes[{i}]", f"lower {c.lower} is above upper {c.upper}"))
        if i == 0 and c.lower is not None and c.lower > -100:
            problems.append(ConfigProblem(f"value_classes[{i}].lower", "the lowest class must cover -100 (omit it)"))
        if i == len(vcs) - 1 and c.upper is not None and c.upper < 100:
            problems.append(ConfigProblem(f"value_classes[{i}].upper", "the highest class must reach 100"))
        if i > 0:
            prev = vcs[i - 1]
            if c.lower is None or prev.upper is None:
                problems.append(
                    ConfigProblem(f"value_classes[{i}].lower", "only the lowest class may be unbounded below")
                )
            elif not prev.upper < c.lower <= prev.upper + 1:
                problems.append(
                    ConfigProblem(
                        f"value_classes[{i}].lower",
                        f"{c.lower} must follow {vcs[i - 1].name}'s upper bound {prev.upper} without gap or overlap "
                        f"(e.g. {prev.upper + 1:g})",
                    )
                )
    pcs = config.potential_classes
    if not 3 <= len(pcs) <= 5:
        problems.append(ConfigProblem("potential_classes", f"needs 3 to 5 classes, has {len(pcs)}"))
    _check_names("potential_classes", [c.name for c in pcs], problems)
    for i, p in enumerate(pcs):
        _check_colour(f"potential_classes[{i}].colour", p.colour, problems)
        if not p.methods:
            problems.append(ConfigProblem(f"potential_classes[{i}].methods", "name at least one method of interaction"))
        if i > 0:
            prev_min = pcs[i - 1].min_score
            if p.min_score is None:
                problems.append(ConfigProblem(f"potential_classes[{i}].min_score", "only the lowest class may omit it"))
            elif prev_min is not None and p.min_score <= prev_min:
                problems.append(
                    ConfigProblem(f"potential_classes[{i}].min_score", f"must be above {prev_min:g} (classes ascend)")
                )
    s = config.potential_signals
    for name in ("trend_weight", "inbound_weight", "size_weight", "referrals_weight", "meeting_weight"):
        if getattr(s, name) < 0:
            problems.append(ConfigProblem(f"potential_signals.{name}", "must not be negative"))
    for name in ("trend_min_total", "inbound_horizon_days", "referrals_full"):
        if getattr(s, name) <= 0:
            problems.append(ConfigProblem(f"potential_signals.{name}", "must be positive"))
    for size, score in s.size_scores.items():
        if not 0 <= score <= 1:
            problems.append(ConfigProblem(f"potential_signals.size_scores.{size}", "must be between 0 and 1"))
    st = config.status
    if st.active_days <= 0:
        problems.append(ConfigProblem("status.active_days", "must be positive"))
    if st.inactive_days < st.active_days:
        problems.append(ConfigProblem("status.inactive_days", f"must be at least active_days ({st.active_days})"))
    if config.value_period_days <= 0:
        problems.append(ConfigProblem("value_period_days", "must be positive"))
    if config.engagement_window_days <= 0:
        problems.append(ConfigProblem("engagement_window_days", "must be positive"))
    for attribute in config.user_field_map:
        if attribute not in USER_FIELD_ATTRIBUTES:
            problems.append(
                ConfigProblem(
                    f"user_field_map.{attribute}", f"not an attribute (one of {', '.join(USER_FIELD_ATTRIBUTES)})"
                )
            )
    problems.extend(_category_problems(config.categories))
    if not problems:
        problems.extend(_collision_problems(config))
    return problems


def _collision_problems(config: ClassificationConfig) -> list[ConfigProblem]:
    """Two managed categories that Outlook would see as one (names are case-insensitive there)."""
    names = config.categories
    labelled: list[tuple[str, str]] = [(f"categories.type_names.{t}", n) for t, n in names.type_names.items()]
    labelled += [("categories.value_template", names.value_template.format(tier=t)) for t in config.tier_names]
    labelled += [
        ("categories.potential_template", names.potential_template.format(potential=p)) for p in config.potential_names
    ]
    if names.status_template is not None:
        labelled += [
            ("categories.status_template", names.status_template.format(status=n)) for n in names.status_names.values()
        ]
    seen: dict[str, str] = {}
    problems: list[ConfigProblem] = []
    for key, category in labelled:
        folded = category.casefold()
        if folded in seen:
            problems.append(ConfigProblem(key, f"category {category!r} is also made by {seen[folded]}"))
        else:
            seen[folded] = key
    return problems


def _category_problems(names: CategoryNames) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    for t in RELATIONSHIP_TYPES:
        if not names.type_names.get(t, "").strip():
            problems.append(ConfigProblem(f"categories.type_names.{t}", "needs a category name"))
    for t in names.type_names:
        if t not in RELATIONSHIP_TYPES:
            problems.append(ConfigProblem(f"categories.type_names.{t}", f"unknown type (one of {RELATIONSHIP_TYPES})"))
    templates = {
        "value_template": ("{tier}", names.value_template),
        "potential_template": ("{potential}", names.potential_template),
    }
    if names.status_template is not None:
        templates["status_template"] = ("{status}", names.status_template)
        for st in STATUSES:
            if not names.status_names.get(st, "").strip():
                problems.append(ConfigProblem(f"categories.status_names.{st}", "needs a name"))
    for key, (placeholder, template) in templates.items():
        if template.count(placeholder) != 1 or template.count("{") != 1 or template.count("}") != 1:
            problems.append(
                ConfigProblem(f"categories.{key}", f"must contain {placeholder} exactly once, and no other braces")
            )
    _check_colour("categories.type_colour", names.type_colour, problems)
    _check_colour("categories.status_colour", names.status_colour, problems)
    return problems
