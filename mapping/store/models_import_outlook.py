"""Outlook contacts a contact import created (``relsync import contacts --to-outlook``).

One row per contact relsync means to create in an owner's Contacts folder, written (state
``intended``, with the id that will be stamped on the contact) and committed *before* the write to
Exchange, so a crash between the write and its record leaves a row whose contact is found again by
that stamp and adopted, never created a second time. ``created`` rows hold the item's id and the
ChangeKey relsync left it with: an undo removes the contact only while that ChangeKey is unchanged
(nobody edited it since); ``removed`` and ``kept`` record what an undo did.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mapping.store.models import Base, UTCDateTime, utcnow

#: The states of a row, in the order they happen.
STATES = ("intended", "created", "removed", "kept")


class ImportOutlookContact(Base):
    """One Outlook contact an import batch created (or means to) for one person in one mailbox."""

    __tablename__ = "import_outlook_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batches.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(index=True)  # no foreign key: the row outlives an undone person
    mailbox: Mapped[str] = mapped_column(sa.String(320))
    our_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    state: Mapped[str] = mapped_column(sa.String(16), default="intended")
    item_id: Mapped[str | None] = mapped_column(sa.String(512))
    change_key: Mapped[str | None] = mapped_column(sa.String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


__all__ = ["STATES", "ImportOutlookContact"]
