"""The ``[followups]`` section: cadence per value tier, reminders, working days, owners' time zones.

:func:`build_policy` turns the validated section and the classification (its tier names and each
potential class's methods) into a :class:`mapping.followups.FollowUpPolicy`, and returns every
problem as a sentence ``FILE: KEY: what. Fix: how``.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from mapping.classify_config import ClassificationConfig
from mapping.followups import CADENCE_HELP, Cadence, FollowUpPolicy, parse_cadence
from mapping.relationship_records import RELATIONSHIP_TYPES

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class FollowUpsConfig(BaseModel):
    """``[followups]``; every key has a default, so a file without the section plans the seeds' cadence."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    #: false: plan nothing and write no tasks.
    enabled: bool = True
    #: Value tier -> cadence (see mapping.followups.CADENCE_HELP).
    cadence: dict[str, str] = Field(
        default_factory=lambda: {
            "Superior": "weekly",
            "Average": "monthly",
            "Marginal": "quarterly",
            "Eliminate": "handover",
        }
    )
    #: Potential classes whose tasks come first: importance High and the earlier reminder.
    high_potentials: list[str] = Field(default_factory=lambda: ["High"])
    reminder_time: str = "09:00"
    reminder_time_high: str = "08:00"
    working_days: list[str] = Field(default_factory=lambda: list(DAYS[:5]))
    #: A real interaction before the due date: "complete" the open task (with a note) and plan the next,
    #: or "reschedule" it to a cadence after that interaction.
    on_interaction: str = "complete"
    #: Relationship statuses that get follow-ups (archive: none).
    statuses: list[str] = Field(default_factory=lambda: ["active", "inactive"])
    #: Relationship types an "Eliminate" tier hands over to a competitor (a lead that never bought is
    #: valued 0 % too, but is not handed over).
    handover_types: list[str] = Field(default_factory=lambda: ["customer"])
    #: Ownership: two-way interactions counted over this many days; a challenger needs this many more.
    owner_window_days: int = Field(180, ge=1, le=3650)
    owner_switch_margin: int = Field(3, ge=0, le=1000)
    #: Owners' time zone (IANA name), and per-owner exceptions: address -> zone.
    time_zone: str = "UTC"
    time_zones: dict[str, str] = Field(default_factory=dict)
    #: The managed category on every follow-up task, and its colour in the master category list.
    category: str = Field("Follow-up", min_length=1, max_length=255)
    category_colour: str = "Preset3"


def _clock(text: str) -> time | None:
    try:
        hour, minute = text.split(":")
        return time(int(hour), int(minute))
    except ValueError:
        return None


def _zone_ok(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def build_policy(
    section: FollowUpsConfig, classification: ClassificationConfig, path: Path
) -> tuple[FollowUpPolicy, list[str]]:
    """The planner's policy, and every problem of the section (empty when it is valid)."""
    problems: list[str] = []

    def bad(key: str, what: str, fix: str) -> None:
        problems.append(f"{path}: followups.{key}: {what}. Fix: {fix}")

    tiers = {c.name for c in classification.value_classes}
    potentials = {c.name for c in classification.potential_classes}
    cadences: dict[str, Cadence | Literal["handover"] | None] = {}
    # Defaults name the business case's classes: with renamed classes and no cadence of its own, a
    # file plans the classes whose names still match (none: no follow-ups), rather than failing.
    explicit = section.model_fields_set
    for tier, text in section.cadence.items():
        if tier not in tiers and "cadence" not in explicit:
            continue
        if tier not in tiers:
            bad(
                f"cadence.{tier}",
                f"no value class is called {tier!r}",
                f"use one of {', '.join(sorted(tiers))} (classification.value_classes)",
            )
            continue
        try:
            cadences[tier] = parse_cadence(text)
        except ValueError:
            bad(f"cadence.{tier}", f"unknown cadence {text!r}", f"use {CADENCE_HELP}")
    for name in section.high_potentials:
        if name not in potentials and "high_potentials" in explicit:
            bad(
                "high_potentials",
                f"no potential class is called {name!r}",
                f"use one of {', '.join(sorted(potentials))}",
            )
    clocks = {}
    for key in ("reminder_time", "reminder_time_high"):
        value = getattr(section, key)
        clocks[key] = _clock(value)
        if clocks[key] is None:
            bad(key, f"not a time of day ({value!r})", 'write it as "HH:MM", e.g. "09:00"')
    days = set()
    for day in section.working_days:
        if day not in DAYS:
            bad("working_days", f"unknown day {day!r}", f"use {', '.join(DAYS)}")
        else:
            days.add(DAYS.index(day))
    if section.on_interaction not in ("complete", "reschedule"):
        bad("on_interaction", f"unknown value {section.on_interaction!r}", 'use "complete" or "reschedule"')
    for status in section.statuses:
        if status not in ("active", "inactive", "archive"):
            bad("statuses", f"unknown status {status!r}", "use active, inactive and/or archive")
    for rel_type in section.handover_types:
        if rel_type not in RELATIONSHIP_TYPES:
            bad("handover_types", f"unknown relationship type {rel_type!r}", f"use {', '.join(RELATIONSHIP_TYPES)}")
    if not _zone_ok(section.time_zone):
        bad("time_zone", f"unknown time zone {section.time_zone!r}", 'use an IANA name such as "Europe/London"')
    for address, zone in section.time_zones.items():
        if not _zone_ok(zone):
            bad(f"time_zones.{address}", f"unknown time zone {zone!r}", 'use an IANA name such as "America/New_York"')
    policy = FollowUpPolicy(
        cadences=cadences,
        methods={c.name: tuple(c.methods) for c in classification.potential_classes},
        high_potentials=frozenset(section.high_potentials),
        reminder_time=clocks["reminder_time"] or time(9),
        reminder_time_high=clocks["reminder_time_high"] or time(8),
        working_days=frozenset(days),
        on_interaction="reschedule" if section.on_interaction == "reschedule" else "complete",
        statuses=frozenset(section.statuses),
        handover_types=frozenset(section.handover_types),
        owner_window_days=section.owner_window_days,
        owner_switch_margin=section.owner_switch_margin,
    )
    return policy, problems
