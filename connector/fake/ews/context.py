"""What every EWS operation handler gets: the request (:class:`Ctx`) and the server state it may use.

A handler takes a :class:`Ctx` and returns the SOAP body content. It raises :class:`SoapFault` for
request-level failures (served as ``s:Fault``, HTTP 500) and returns per-item error response messages
for item-level failures, as Exchange does. Handlers see the server only through :class:`ExchangeState`,
so the operation modules do not import the server (which imports them through the router).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from lxml import etree

from connector.fake.ews import soap
from connector.fake.ews.xmlout import NS_M, NS_T
from connector.fake.faults import FaultPlan
from connector.fake.mailbox import MailboxStore, SyncStateCodec
from connector.fake.model import CompanySource
from connector.fake.stats import Stats
from connector.fake.userconfig import UserConfigStore


class ExchangeState(Protocol):
    """The parts of the fake Exchange (``server.FakeExchange``) that operation handlers use."""

    company: CompanySource
    faults: FaultPlan
    stats: Stats
    sync_codec: SyncStateCodec
    user_configs: UserConfigStore

    def mailbox_for(self, address: str | None) -> MailboxStore | None: ...

    def mailbox_by_number(self, number: int) -> MailboxStore | None: ...


T = f"{{{NS_T}}}"
M = f"{{{NS_M}}}"
MAX_SYNC_CHANGES = 512  # MaxSyncChangesReturnedType: 1..512
MAX_CALENDAR_VIEW = timedelta(days=731)  # Exchange expands a CalendarView over at most two years


class SoapFault(Exception):
    """A request-level failure, served as a SOAP Fault with HTTP 500."""

    def __init__(self, code: str, message: str, body: bytes | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.body = body if body is not None else soap.fault(code, message)


@dataclass
class Ctx:
    """One request: the operation element, the selected mailbox and the server."""

    op: str
    elem: etree._Element
    server: ExchangeState
    mailbox: MailboxStore | None
    mailbox_address: str | None

    def require_mailbox(self) -> MailboxStore:
        if self.mailbox is None:  # the server answers this before dispatching
            raise SoapFault("ErrorNonExistentMailbox", "No mailbox with such guid.")
        return self.mailbox


def local_name(tag: Any) -> str:
    """An element's tag without its namespace."""
    t = str(tag)
    return t.rsplit("}", 1)[-1]


def parse_bool(text: str | None) -> bool:
    """An xs:boolean (``true``/``1``; anything else is false)."""
    return (text or "").strip().lower() in ("true", "1")


def parse_datetime(text: str | None) -> datetime:
    """An xs:dateTime or xs:date (midnight UTC) as an aware datetime; naive values are UTC."""
    value = (text or "").strip()
    if len(value) == 10:
        value += "T00:00:00Z"
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt
