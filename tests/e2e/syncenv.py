"""Helpers for the end-to-end sync tests: a hand-made company, item factories and a sync harness.

Everything runs for real: a FakeExchange on loopback (every response validated against the EWS
schema), exchangelib over HTTP, the EwsMailboxSync engine, and a migrated store. ``sleep`` is the one
seam replaced: waits are recorded instead of slept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from connector.engine import MailboxReport, SyncSettings
from connector.ews.client import EwsConnection
from connector.ews.reader import EwsMailboxSync
from connector.ews.settings import EwsSettings
from connector.fake.ews.server import FakeExchange
from connector.fake.model import Attendee, ItemSpec, Mailbox
from mapping.changes import FolderName, SyncRules
from mapping.store.store import Store

DOMAIN = "contoso.example"
ALICE = Mailbox("Alice Archer", f"alice@{DOMAIN}", mailbox_type="Mailbox")
BOB = Mailbox("Bob Baker", f"bob@{DOMAIN}", mailbox_type="Mailbox")
CAROL = Mailbox("Carol Cole", f"carol@{DOMAIN}", mailbox_type="Mailbox")
DANA = Mailbox("Dana Dunn", "dana@fabrikam.example")
ERIN = Mailbox("Erin Estrada", "erin@northwind.example")
GINA = Mailbox("Gina Gmail", "gina.g@gmail.com")
ALL_FOLDERS: list[FolderName] = ["contacts", "inbox", "sentitems", "calendar"]
#: Recent enough to fall in the default calendar window, whatever day the tests run.
T0 = (datetime.now(UTC) - timedelta(days=20)).replace(hour=9, minute=0, second=0, microsecond=0)


def contact(n: int, name: str, email: str | None, **extra: Any) -> ItemSpec:
    given, _, surname = name.partition(" ")
    fields: dict[str, Any] = {
        "Subject": name,
        "DisplayName": name,
        "GivenName": given,
        "Surname": surname,
        "FileAs": f"{surname}, {given}",
        "DateTimeCreated": T0 - timedelta(days=30),
        "LastModifiedTime": T0 - timedelta(days=30),
    }
    if email:
        fields["EmailAddresses"] = {"EmailAddress1": email}
        fields["CompanyName"] = email.split("@")[1].split(".")[0].title()
    fields.update(extra)
    return ItemSpec("Contact", fields)


def message(n: int, subject: str, sender: Mailbox, to: Sequence[Mailbox], **extra: Any) -> ItemSpec:
    when = T0 + timedelta(hours=n)
    fields: dict[str, Any] = {
        "Subject": subject,
        "Body": f"Hello, about {subject}.",
        "DateTimeReceived": when,
        "DateTimeSent": when - timedelta(minutes=1),
        "DateTimeCreated": when,
        "LastModifiedTime": when,
        "Sender": sender,
        "From": sender,
        "ToRecipients": tuple(to),
        "InternetMessageId": f"<msg{n}@e2e.example>",
        "ConversationId": f"CONV-{n}",
        "ConversationTopic": subject,
        "IsRead": True,
    }
    fields.update(extra)
    return ItemSpec("Message", fields)


def meeting(
    n: int, subject: str, start: datetime, organizer: Mailbox, attendees: Sequence[Mailbox], **extra: Any
) -> ItemSpec:
    fields: dict[str, Any] = {
        "Subject": subject,
        "Start": start,
        "End": start + timedelta(hours=1),
        "StartTimeZone": "UTC",
        "EndTimeZone": "UTC",
        "UID": f"uid-{n}",
        "Organizer": organizer,
        "RequiredAttendees": tuple(Attendee(a, "Accept") for a in attendees),
        "IsMeeting": True,
    }
    fields.update(extra)
    return ItemSpec("CalendarItem", fields)


@dataclass
class HandCompany:
    """A CompanySource whose folders are given by the test: ``items[(address, folder)]``."""

    staff: tuple[Mailbox, ...] = (ALICE, BOB)
    items: dict[tuple[str, str], list[ItemSpec]] = field(default_factory=dict)
    seed: int = 1
    domain: str = DOMAIN

    def mailboxes(self) -> tuple[Mailbox, ...]:
        return self.staff

    def folder(self, mailbox: str, folder: str) -> Sequence[ItemSpec]:
        return self.items.get((mailbox, folder), [])


@dataclass
class SyncEnv:
    """One fake Exchange, one migrated store, and the engine between them."""

    ex: FakeExchange
    store: Store
    connection: EwsConnection
    rules: SyncRules
    waits: list[float] = field(default_factory=list)

    def engine(self, **settings: Any) -> EwsMailboxSync:
        defaults: dict[str, Any] = {"retry_base_seconds": 0.01}
        return EwsMailboxSync(
            self.connection, self.store, self.rules, SyncSettings(**{**defaults, **settings}), sleep=self.waits.append
        )

    def sync(
        self,
        address: str = ALICE.email,
        folders: list[FolderName] | None = None,
        *,
        full: bool = False,
        rules: SyncRules | None = None,
        **settings: Any,
    ) -> MailboxReport:
        engine = self.engine(**settings)
        if rules is not None:
            engine.rules = rules
        return engine.sync(address, folders or ALL_FOLDERS, full=full)

    def mb(self, address: str = ALICE.email) -> Any:
        return self.ex.mailboxes[address]

    # --- reading the store with plain SQL ------------------------------------------------------
    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.store.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.store.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def count(self, table: str, where: str = "1=1", **params: Any) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {table} WHERE {where}", **params))

    def subjects(self) -> set[str]:
        return {r[0] for r in self.rows("SELECT subject FROM interactions")}

    def live_links(self, folder: str, address: str = ALICE.email) -> int:
        return self.count(
            "item_links l JOIN staff_mailboxes m ON m.id = l.mailbox_id",
            "l.folder = :f AND m.address = :a AND l.deleted_at IS NULL",
            f=folder,
            a=address,
        )

    def mailbox_row(self, address: str) -> Any:
        return self.rows("SELECT needs_attention, attention_reason FROM staff_mailboxes WHERE address = :a", a=address)[
            0
        ]

    def dump_text(self) -> str:
        """Every text value of every table, for 'this must appear nowhere' assertions."""
        out: list[str] = []
        with self.store.engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                    out.extend(str(v) for v in row if v is not None)
        return "\n".join(out)


#: The ``make_env`` fixture (tests/e2e/conftest.py): ``make_env(company, url=..., rules=...)``.
EnvFactory = Callable[..., SyncEnv]


def connection_for(ex: FakeExchange) -> EwsConnection:
    return EwsConnection(
        EwsSettings(endpoint=ex.url, username=ex.username, password=ex.password, auth="basic", timeout_seconds=10)
    )
