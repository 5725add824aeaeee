"""The ``[classification]`` section and the ``[[rules]]`` list of the TOML file.

Every key has a default equal to the business case's tables (``mapping.classify_config``), so a file
without these sections classifies exactly as the seeds say. :func:`build_classification` turns the
validated sections into a :class:`~mapping.classify_config.ClassificationConfig` and compiled rules,
and returns every problem as a sentence ``FILE: KEY: what. Fix: how`` for :class:`ConfigError`.

**Lines of rules.** ``tomllib`` gives no positions, so :func:`rule_lines` finds them by scanning the
file's text: the *n*-th line whose first non-blank text is the array-of-tables header ``[[rules]]``
(spaces inside the brackets allowed, a trailing comment allowed) is where ``rules[n]`` starts, as TOML
appends each ``[[rules]]`` table to the array in file order. Header-looking lines inside multi-line
strings are skipped by tracking ``\"\"\"`` / ``'''`` delimiters. When the count of headers found does not
equal the number of rules (e.g. rules written as an inline array ``rules = [{...}]``), no line is
given rather than a wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mapping.classify_config import (
    DEFAULT_POTENTIAL_CLASSES,
    DEFAULT_VALUE_CLASSES,
    CategoryNames,
    ClassificationConfig,
    ClassificationConfigError,
    PotentialClass,
    StatusThresholds,
    ValueClass,
)
from mapping.relationship_records import RelationshipType, Status
from mapping.rules import CompiledRule, RulesError, RuleSpec, compile_rules


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ValueClassConfig(_Section):
    name: str
    lower: float | None = None
    upper: float | None = None
    colour: str = "None"


class PotentialClassConfig(_Section):
    name: str
    min_score: float | None = None
    methods: list[str] = Field(default_factory=lambda: ["e-mail"])
    colour: str = "None"


class StatusConfig(_Section):
    active_days: int = 90
    inactive_days: int = 365


_DEFAULT_NAMES = CategoryNames()
_DEFAULT_TYPES = _DEFAULT_NAMES.type_names
_DEFAULT_STATUSES = _DEFAULT_NAMES.status_names


class CategoriesConfig(_Section):
    type_names: dict[str, str] = Field(default_factory=lambda: {str(k): v for k, v in _DEFAULT_TYPES.items()})
    value_template: str = _DEFAULT_NAMES.value_template
    potential_template: str = _DEFAULT_NAMES.potential_template
    status_template: str | None = _DEFAULT_NAMES.status_template
    status_names: dict[str, str] = Field(default_factory=lambda: {str(k): v for k, v in _DEFAULT_STATUSES.items()})
    type_colour: str = _DEFAULT_NAMES.type_colour
    status_colour: str = _DEFAULT_NAMES.status_colour
    #: The managed owner choice ("Owner: {owner}"; empty string: none) and the names it shows per staff
    #: address (default: the address itself).
    owner_template: str = "Owner: {owner}"
    owner_names: dict[str, str] = Field(default_factory=dict)
    owner_colour: str = _DEFAULT_NAMES.owner_colour


def _default_value_classes() -> list[ValueClassConfig]:
    return [ValueClassConfig(name=c.name, lower=c.lower, upper=c.upper, colour=c.colour) for c in DEFAULT_VALUE_CLASSES]


def _default_potential_classes() -> list[PotentialClassConfig]:
    return [
        PotentialClassConfig(name=c.name, min_score=c.min_score, methods=list(c.methods), colour=c.colour)
        for c in DEFAULT_POTENTIAL_CLASSES
    ]


class ClassificationSection(_Section):
    """``[classification]``: value and potential classes, status thresholds, periods, category names."""

    #: false: classify and store, but write nothing to Outlook (a dry run while the rules are tuned).
    write_back: bool = True
    value_classes: list[ValueClassConfig] = Field(default_factory=_default_value_classes)
    potential_classes: list[PotentialClassConfig] = Field(default_factory=_default_potential_classes)
    status: StatusConfig = Field(default_factory=lambda: StatusConfig())
    value_period_days: int = 365
    engagement_window_days: int = 90
    #: Only transactions in this currency count towards value (None: all, at face value).
    currency: str | None = Field(None, min_length=3, max_length=3)
    categories: CategoriesConfig = Field(default_factory=lambda: CategoriesConfig())
    #: Outlook user-defined field name -> the relationship attribute it supplies.
    user_fields: dict[str, str] = Field(
        default_factory=lambda: {"Source": "source", "Referred By": "referred_by", "Industry": "industry"}
    )


class RuleConfig(_Section):
    """One ``[[rules]]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, populate_by_name=True)

    name: str
    when: str
    set_: dict[str, Any] = Field(alias="set")


_HEADER = re.compile(r"^\s*\[\[\s*rules\s*\]\]\s*(#.*)?$")


def rule_lines(text: str) -> list[int]:
    """1-based line numbers of the ``[[rules]]`` headers, in file order (see the module docstring)."""
    out: list[int] = []
    open_quote: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if open_quote is None and _HEADER.match(line):
            out.append(number)
            continue
        rest = line
        while rest:
            if open_quote is None:
                starts = [(rest.find(q), q) for q in ('"""', "'''") if q in rest]
                if not starts:
                    break
                position, quote = min(starts)
                open_quote, rest = quote, rest[position + 3 :]
            else:
                position = rest.find(open_quote)
                if position < 0:
                    break
                open_quote, rest = None, rest[position + 3 :]
    return out


def _fix_for(message: str) -> str:
    if "unknown field" in message:
        return "use a field listed under [[rules]] in config.example.toml"
    if "does not parse" in message or "not valid" in message:
        return "correct the expression (rule_engine syntax: and, or, not, ==, !=, <, =~, ?? for empty fields)"
    if message.startswith(("unknown ", "cannot set")):
        return "use one of the values listed"
    if "must be a condition" in message:
        return 'compare something, e.g. tier == "Average"'
    return "correct the rule"


def _owner_labels(staff: Sequence[str], names: Mapping[str, str]) -> dict[str, str]:
    """Staff address -> the name its "Owner: ..." category shows (the configured name, else the address)."""
    named = {a.casefold(): n for a, n in names.items()}
    return {a.casefold(): named.get(a.casefold()) or a for a in staff}


def build_classification(
    section: ClassificationSection, rules: list[RuleConfig], text: str, path: Path, staff: Sequence[str] = ()
) -> tuple[ClassificationConfig, tuple[CompiledRule, ...], list[str]]:
    """The classification config and compiled rules, and every problem (``FILE: KEY: ... Fix: ...``).

    On problems the returned config/rules are the defaults and must not be used.
    """
    problems: list[str] = []
    user_field_map: dict[str, str] = {}
    for field_name, attribute in section.user_fields.items():
        if attribute in user_field_map:
            problems.append(
                f"{path}: classification.user_fields.{field_name}: {attribute} is already supplied by "
                f"{user_field_map[attribute]!r}. Fix: map each attribute from one Outlook field"
            )
        else:
            user_field_map[attribute] = field_name
    cats = section.categories
    if cats.owner_template and "{owner}" not in cats.owner_template:
        problems.append(
            f"{path}: classification.categories.owner_template: {cats.owner_template!r} has no "
            '{owner}. Fix: write it like "Owner: {owner}", or "" for no owner categories'
        )
        return ClassificationConfig(), (), problems
    try:
        config = ClassificationConfig(
            value_classes=tuple(ValueClass(c.name, c.lower, c.upper, c.colour) for c in section.value_classes),
            potential_classes=tuple(
                PotentialClass(c.name, c.min_score, tuple(c.methods), c.colour) for c in section.potential_classes
            ),
            status=StatusThresholds(section.status.active_days, section.status.inactive_days),
            value_period_days=section.value_period_days,
            engagement_window_days=section.engagement_window_days,
            categories=CategoryNames(
                type_names=_typed_names(cats.type_names),
                value_template=cats.value_template,
                potential_template=cats.potential_template,
                status_template=cats.status_template,
                status_names=_status_names(cats.status_names),
                type_colour=cats.type_colour,
                status_colour=cats.status_colour,
                owner_template=cats.owner_template or None,
                owner_labels=_owner_labels(staff, cats.owner_names),
                owner_colour=cats.owner_colour,
            ),
            user_field_map=user_field_map,
        )
    except ClassificationConfigError as exc:
        for p in exc.problems:
            key = p.key.replace("user_field_map.", "user_fields -> ")
            problems.append(f"{path}: classification.{key}: {p.message}. Fix: correct the value")
        return ClassificationConfig(), (), problems
    lines = rule_lines(text)
    if len(lines) != len(rules):
        lines = []
    specs = [RuleSpec(r.name, r.when, r.set_, lines[i] if lines else None) for i, r in enumerate(rules)]
    try:
        compiled = compile_rules(specs, config, key_prefix="rules")
    except RulesError as exc:
        problems.extend(f"{path}: {p}. Fix: {_fix_for(p.message)}" for p in exc.problems)
        return config, (), problems
    return config, compiled, problems


def _typed_names(raw: dict[str, str]) -> dict[RelationshipType, str]:
    # Unknown keys are kept (typed loosely) so ClassificationConfig reports them by key.
    return dict(raw)  # type: ignore[return-value]


def _status_names(raw: dict[str, str]) -> dict[Status, str]:
    return dict(raw)  # type: ignore[return-value]
