"""The one seam to the relationship store.

Usage::

    store = Store("sqlite:///relsync.db")        # or "postgresql+psycopg://user@host/db"
    mailbox = store.ensure_mailbox("ann@example.com", "Ann")
    with store.session() as s:                   # one transaction: committed at the end,
        s.add(Person(display_name="Ann Lee"))     # rolled back if the block raises
    store.dispose()

The schema is created and upgraded by :func:`mapping.store.migrate.upgrade`, never by ``Store``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mapping.store.engine import make_engine
from mapping.store.models import MailboxBackend, StaffMailbox


class Store:
    """The relationship store behind one database URL.

    Thread-safe to share: each :meth:`session` call gets its own connection from the pool.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        # expire_on_commit=False: objects stay readable after the block, so a job can log or return
        # what it wrote without a second round trip.
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A Session in one transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection (call on shutdown; the Store is unusable afterwards)."""
        self.engine.dispose()

    def ensure_mailbox(
        self, address: str, display_name: str, backend: MailboxBackend = MailboxBackend.EWS
    ) -> StaffMailbox:
        """Return the staff mailbox for ``address`` (case-insensitive), creating it if missing.

        Runs in its own transaction; the returned object is detached but readable. An existing
        mailbox keeps its settings. Safe against a concurrent creator: losing the race on the unique
        address means the row exists, so it is read back.
        """
        normalised = address.strip().lower()
        query = sa.select(StaffMailbox).where(StaffMailbox.address == normalised)
        try:
            with self.session() as s:
                mailbox = s.scalars(query).one_or_none()
                if mailbox is None:
                    mailbox = StaffMailbox(address=normalised, display_name=display_name, backend=backend)
                    s.add(mailbox)
                return mailbox
        except IntegrityError:
            with self.session() as s:
                return s.scalars(query).one()

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"
