"""What every part of a generated company shares: the model's attributes and the bits of mail they all use.

:class:`~connector.fake.company.generator.FakeCompany` is assembled from one class per domain (people,
mail, contacts, meetings, tasks), each a :class:`CompanyParts`: the attributes below are set once by
``FakeCompany.__init__`` and read by every part.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from connector.fake.company import addressbook, names
from connector.fake.company.layout import Fanout, Layout
from connector.fake.company.rand import ascii_local, between, name_pools, pick, stable_hash
from connector.fake.company.records import HISTORY_SECONDS, Organisation, Person, PlantedCase, Scale, Staff
from connector.fake.model import Mailbox

ContactRef = tuple[str, int, str]  # ("person"|"staff", index, variant)


class CompanyParts:
    """The attributes of a generated company (see ``FakeCompany``) and the helpers its parts share."""

    seed: int
    scale: Scale
    anchor: datetime
    name: str
    domain: str
    n: int
    staff: tuple[Staff, ...]
    organisations: tuple[Organisation, ...]
    people: tuple[Person, ...]
    planted: tuple[PlantedCase, ...]
    layout: Layout
    _transitions: tuple[tuple[str, date], ...]
    _staff_index: dict[str, int]
    _books: tuple[tuple[int, ...], ...]
    _smb: tuple[Mailbox, ...]  # the staff's Mailbox records, built once
    _pmb: tuple[Mailbox, ...]  # the people's
    _contact_refs: tuple[tuple[ContactRef, ...], ...]
    _planted_people: frozenset[int]
    _facts: tuple[addressbook.PersonFacts, ...]
    # fan-out rounds: internal mail, outbound with staff on Cc, inbound to several staff, meetings, invitations
    _int: Fanout
    _occ: Fanout
    _imr: Fanout
    _mtg: Fanout
    _xmtg: Fanout
    # the planted people, by role (indices into ``people``)
    _p_dana: int
    _p_raj: int
    _p_stephen: int
    _p_laura: int
    _p_smith_bank: int
    _p_maria: int
    _p_oliver: int
    _p_smith_harbour: int

    # ---- shared bits ------------------------------------------------------------------------------

    def _business_user_fields(self, org: int) -> dict[str, str]:
        """The planted business case's Outlook user fields on the contacts of organisation ``org``."""
        return {}

    def _past(self, rng: random.Random, min_days: float = 0.0) -> datetime:
        """A past instant within the history window, whole seconds, UTC."""
        lo = int(min_days * 86400)
        return self.anchor - timedelta(seconds=lo + between(rng, HISTORY_SECONDS - lo))

    def _body(self, h: int, greeting: str, signature: str) -> str:
        """A short plain-text body; every choice comes from the bits of one stable hash ``h``."""
        h, n = divmod(h, 3)
        lines = [greeting, ""]
        for _ in range(n + 1):
            h, s = divmod(h, len(names.BODY_SENTENCES))
            h, p = divmod(h, len(names.PRODUCTS))
            h, k = divmod(h, 498)
            lines.append(names.BODY_SENTENCES[s].format(p=names.PRODUCTS[p], k=k + 2))
        lines += ["", "Best regards,", signature]
        return "\n".join(lines)

    def _mid(self, domain: str, *key: object) -> str:
        return f"<{stable_hash(self.seed, 'mid', *key):016x}.{self.seed & 0xFFFF:x}@{domain}>"

    def _message(
        self,
        *,
        sender: Mailbox,
        to: tuple[Mailbox, ...],
        cc: tuple[Mailbox, ...],
        subject: str,
        topic: str,
        body: str,
        sent: datetime,
        mid: str,
        conversation: str,
        references: tuple[str, ...] = (),
        sensitivity: str = "Normal",
        importance: str = "Normal",
        categories: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "ItemClass": "IPM.Note",
            "Subject": subject,
            "Sensitivity": sensitivity,
            "Body": body,
            "Importance": importance,
            "DateTimeSent": sent,
            "DateTimeCreated": sent,
            "InternetMessageId": mid,
            "ConversationId": conversation,
            "ConversationTopic": topic,
            "Sender": sender,
            "From": sender,
            "ToRecipients": to,
        }
        if cc:
            fields["CcRecipients"] = cc
        if categories:
            fields["Categories"] = categories
        if references:
            fields["References"] = " ".join(references)
            fields["InReplyTo"] = references[-1]
        return fields

    def _deliver(self, fields: dict[str, Any], viewer: int, folder: str, *key: object) -> dict[str, Any]:
        """The copy of a message one mailbox holds (Sent Items: read, received = sent)."""
        out = dict(fields)
        sent: datetime = fields["DateTimeSent"]
        if folder == "sentitems":
            out["DateTimeReceived"], out["IsRead"] = sent, True
        else:
            h = stable_hash(self.seed, "recv", viewer, *key)
            out["DateTimeReceived"] = sent + timedelta(seconds=2 + h % 90)
            # Old mail is nearly always read; the last few days' mail often is not.
            out["IsRead"] = (h >> 8) % 100 < (95 if self.anchor - sent > timedelta(days=3) else 40)
        out["LastModifiedTime"] = out["DateTimeReceived"]
        return out

    def _freemail_person(self, rng: random.Random) -> Mailbox:
        country = pick(rng, tuple(names.COUNTRIES))
        first, last = name_pools(names.COUNTRIES[country][0])
        given, surname = pick(rng, first), pick(rng, last)
        domain = pick(rng, names.FREEMAIL_DOMAINS)
        style = between(rng, 3)
        local = (
            f"{ascii_local(given)}.{ascii_local(surname)}"
            if style == 0
            else f"{ascii_local(given)}{ascii_local(surname)}{between(rng, 1, 99)}"
            if style == 1
            else f"{ascii_local(given)[:1]}{ascii_local(surname)}{between(rng, 1960, 2005)}"
        )
        return Mailbox(f"{given} {surname}", f"{local}@{domain}")

    def _copies(
        self, fan: Fanout, folder: str, base: int, anchor: int, t: int, include_self: tuple[str, int] | None = None
    ) -> tuple[tuple[str, str, int], ...]:
        """Every (mailbox, folder, slot) holding the item of round ``t`` of ``anchor``."""
        out = []
        if include_self is not None:
            out.append((self.staff[anchor].email, include_self[0], include_self[1]))
        for idx, off in enumerate(fan.offsets(t)):
            out.append((self.staff[(anchor + off) % self.n].email, folder, base + fan.copy_index(t, idx)))
        return tuple(out)
