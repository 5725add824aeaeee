"""The ``[import]`` section: how ``relsync import contacts`` treats a person the store already has.

``precedence`` says, per field, whose value wins when an imported row merges into an existing person:
``keep`` (the store's), ``take`` (the import's) or ``fill`` (the import's only where the store's is
empty, the default). Fields: name, job_title, department, organisation, address, attributes (the
relationship attributes: type, status, owner, source, referred by, parent, industry, size, what
matters). E-mail addresses and phone numbers are always added, never replaced.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mapping.contact_import.plan import DEFAULT_PRECEDENCE, PRECEDENCE_FIELDS
from mapping.contact_import.profiles import PROFILES


class ImportConfig(BaseModel):
    """``[import]``; every key has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    #: Field -> keep | take | fill (fields not named: fill).
    precedence: dict[str, Literal["keep", "take", "fill"]] = Field(default_factory=lambda: dict(DEFAULT_PRECEDENCE))
    #: The profile used when --profile is not given.
    profile: str = "generic"

    @field_validator("precedence")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(PRECEDENCE_FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; use {', '.join(PRECEDENCE_FIELDS)}")
        return {**DEFAULT_PRECEDENCE, **value}

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in PROFILES:
            raise ValueError(f"unknown profile {value!r}; use one of {', '.join(PROFILES)}")
        return value
