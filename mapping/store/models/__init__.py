"""The relationship store's tables, as typed SQLAlchemy 2 declarative models.

Conventions every table follows, and why:

* **Portable on SQLite and PostgreSQL.** Enumerations are short strings guarded by a named
  ``CHECK`` constraint (never a native PostgreSQL enum: adding a value would need its own migration
  dance); "unique where not null" is a partial unique index, which both backends support.
* **Stable constraint names** come from :data:`NAMING_CONVENTION`, so a migration can drop exactly
  the constraint it created on either backend, and ``downgrade`` works.
* **Time is aware UTC.** :class:`UTCDateTime` refuses naive datetimes on the way in and returns aware
  UTC datetimes on the way out, including on SQLite, which has no time zone type.
* **Exchange item ids are long** (base64 of ~150+ bytes), so they live in ``String(512)`` columns.
* **Bodies are not stored**; an interaction keeps at most a short snippet.

The tables live in one module per domain (base, people, mailboxes, interactions, follow-ups,
identity, relationships, jobs); this package re-exports every name so ``from mapping.store.models
import X`` works. The migration ``migrations/versions/0001_initial.py`` creates exactly this schema; ``check()`` in
:mod:`mapping.store.migrate` reports any drift between the two.
"""

from __future__ import annotations

from mapping.store.models.base import NAMING_CONVENTION, Base, UTCDateTime, utcnow
from mapping.store.models.base import _created as _created  # for models_<domain>.py modules
from mapping.store.models.base import _enum as _enum
from mapping.store.models.base import _updated as _updated
from mapping.store.models.followups import FollowUp, FollowUpKind, FollowUpStatus, OwnershipChange
from mapping.store.models.identity import MatchCandidate, MatchKind, MatchStatus, MergeAudit
from mapping.store.models.interactions import (
    Direction,
    Interaction,
    InteractionKind,
    InteractionParticipant,
    InteractionViewer,
    ParticipantRole,
    ResponseType,
)
from mapping.store.models.jobs import JobLease, JobMark, MailboxLease
from mapping.store.models.mailboxes import EntityType, ItemKind, ItemLink, MailboxBackend, StaffMailbox, SyncState
from mapping.store.models.people import (
    AddressKind,
    DomainKind,
    EmailAddress,
    Organisation,
    OrganisationDomain,
    Person,
    Phone,
    PhoneKind,
    PostalAddress,
)
from mapping.store.models.relationships import (
    CategoryDimension,
    CategoryOverride,
    Relationship,
    RelationshipStatus,
    RelationshipType,
    Transaction,
    TransactionKind,
)

__all__ = [
    "NAMING_CONVENTION",
    "AddressKind",
    "Base",
    "CategoryDimension",
    "CategoryOverride",
    "Direction",
    "DomainKind",
    "EmailAddress",
    "EntityType",
    "FollowUp",
    "FollowUpKind",
    "FollowUpStatus",
    "Interaction",
    "InteractionKind",
    "InteractionParticipant",
    "InteractionViewer",
    "ItemKind",
    "ItemLink",
    "JobLease",
    "JobMark",
    "MailboxBackend",
    "MailboxLease",
    "MatchCandidate",
    "MatchKind",
    "MatchStatus",
    "MergeAudit",
    "Organisation",
    "OrganisationDomain",
    "OwnershipChange",
    "ParticipantRole",
    "Person",
    "Phone",
    "PhoneKind",
    "PostalAddress",
    "Relationship",
    "RelationshipStatus",
    "RelationshipType",
    "ResponseType",
    "StaffMailbox",
    "SyncState",
    "Transaction",
    "TransactionKind",
    "UTCDateTime",
    "utcnow",
]
