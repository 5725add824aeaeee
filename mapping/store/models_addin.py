"""The Outlook add-in's links: which staff mailbox an Exchange Server user identity belongs to.

An Exchange identity token (Exchange Server's ``getUserIdentityTokenAsync``) names its user only by
``msexchuid`` at the server of ``amurl``, not by address. As Microsoft's "Authenticate a user with an
identity token for Exchange" describes, the back end links that identity to its own user once, while
the user is signed in to it some other way: here, the web console's sign-in (``/addin/link``). A link
is kept as the SHA-256 of ``amurl`` and ``msexchuid`` (the token itself is never stored).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mapping.store.models import Base, UTCDateTime


class AddinLink(Base):
    """An Exchange user identity (hashed) linked to the staff mailbox address that signed in to link it."""

    __tablename__ = "addin_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    mailbox: Mapped[str] = mapped_column(sa.String(320), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    linked_by: Mapped[str] = mapped_column(sa.String(400))  # how: "web:<address>" (the console sign-in)
