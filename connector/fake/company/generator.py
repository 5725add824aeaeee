"""Deterministic, lazy data generator for the fake Exchange.

``build_company(seed, mailboxes, scale)`` returns a :class:`FakeCompany`: a small company model
(staff, external organisations and their people, the planted duplicates) built once, and
``folder(mailbox, folder)`` sequences whose items are generated on demand.

Determinism. Item ``i`` of a folder is produced from a ``random.Random`` seeded with a stable hash
(BLAKE2b) of ``(seed, family, mailbox index, slot)``; Python's ``hash()`` of ``str`` is salted per
process and is never used, nor is the iteration order of a set of strings. Faker (pinned) is used only
while building the company model, with per-instance seeds, so no global Faker state leaks in.
Generating item ``i`` never generates items ``0..i-1``.

Cross-mailbox copies. One message can live in several mailboxes (the sender's Sent Items and each
internal recipient's Inbox). Those messages are organised in *rounds* (see :class:`Fanout`): in round
``t`` every mailbox ``a`` sends one message, to the mailboxes ``a + o`` (mod N) for the offsets ``o``
of that round, which depend on ``t`` only. So every mailbox receives exactly ``len(offsets(t))``
copies per round, and inbox slot ``j`` maps back to ``(round, offset)`` and so to its sender by plain
arithmetic, without enumerating other mailboxes. Meetings use the same scheme for attendee copies.

Folder layout (slot ranges, all computed once in :class:`Layout`):

* ``sentitems``: internal rounds | outbound to a customer with staff on Cc | customer threads (replies)
* ``inbox``: internal copies | copies of staff-Cc'd outbound mail | inbound mail to several staff |
  a periodic mix of customer threads, newsletters, no-reply and free-mail senders
* ``contacts``: planted duplicates | the mailbox's book of customers | a long tail of extra people
* ``calendar``: meetings organised here | copies of colleagues' meetings | external invitations |
  personal appointments and all-day events
* ``tasks``: independent tasks

The ``.co.uk`` pair. The "company for ``co.uk``" trap needs a real multi-label public suffix: no
reserved name (RFC 2606 / RFC 6761) sits under one, and ``brightwater.example.co.uk`` would make
``example.co.uk`` the registrable domain of every such organisation. So the two UK organisations use
``brightwater-example.co.uk`` and ``harbourview-example.co.uk``: real suffix, obviously fictional label.
Nothing here ever resolves or sends to those names.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import overload

from connector.fake.company import addressbook, names
from connector.fake.company.business import BusinessCase, business_case
from connector.fake.company.contacts import ContactItems
from connector.fake.company.layout import MEETING_STAFF, Fanout, build_layout
from connector.fake.company.mail import MailItems
from connector.fake.company.meetings import CalendarItems
from connector.fake.company.people import PeopleBuilder
from connector.fake.company.records import (
    DEFAULT_ANCHOR,
    HISTORY_DAYS,
    SCALES,
    ContactLocation,
    Organisation,
    Person,
    PlantedCase,
    Scale,
    Staff,
)
from connector.fake.company.series import dst_transitions, occurrence_starts
from connector.fake.company.tasks import TaskItems
from connector.fake.model import FOLDER_KINDS, ItemSpec, Mailbox

# --------------------------------------------------------------------------------------------------
# The company
# --------------------------------------------------------------------------------------------------


class FakeCompany(PeopleBuilder, MailItems, ContactItems, CalendarItems, TaskItems):
    """A generated company: the small model plus lazy folders (implements ``CompanySource``).

    Read-only facts for tests (treat as immutable):

    * ``seed``, ``scale`` (:class:`Scale`), ``anchor`` (aware UTC "now"), ``name`` and ``domain`` (ours)
    * ``staff``: :class:`Staff` per mailbox, in mailbox order (name, e-mail, IANA and Windows zone)
    * ``organisations`` / ``people``: the external world (:class:`Organisation`, :class:`Person`);
      the planted ones come first: 0 IBM, 1 Acme Corp, 2 Acme Bank, 3 Brightwater, 4 Harbourview
    * ``planted``: every :class:`PlantedCase` (kinds: org_alias, nickname, two_addresses, www_domain,
      legal_form, same_customer, public_suffix, hard_negative_org, hard_negative_person, own_domain),
      each pointing at its contacts; they fit in the first 13 contact slots, so any scale with at
      least 13 contacts per mailbox holds them all
    * ``layout``: the slot ranges of the folders (see the module docstring)

    Every generated item carries notes in ``ItemSpec.extra`` (never served): ``kind`` (internal,
    outbound_cc, inbound_multi, thread, newsletter, noreply, freemail, person, colleague, extra, role,
    meeting, external_meeting, personal, exception, task) and, for items held by several mailboxes,
    ``copies``: every ``(mailbox, folder, slot)`` that holds the same message or meeting.
    """

    def __init__(self, seed: int, n_mailboxes: int, scale: Scale, anchor: datetime) -> None:
        if n_mailboxes < 1:
            raise ValueError("a company needs at least one mailbox")
        if anchor.tzinfo is None:
            raise ValueError("anchor must be timezone-aware")
        self.seed = seed
        self.scale = scale
        self.anchor = anchor.astimezone(UTC)
        self.name = names.OWN_COMPANY
        self.domain = names.OWN_DOMAIN
        self.n = n_mailboxes
        self._transitions = dst_transitions(self.anchor)
        self.staff: tuple[Staff, ...] = self._build_staff()
        self._staff_index = {s.email.lower(): s.index for s in self.staff}
        orgs, people = self._build_world()
        self.organisations: tuple[Organisation, ...] = orgs
        self.people: tuple[Person, ...] = people
        self._books = self._build_books()
        # Mailbox records are immutable; build them once instead of once per generated item.
        self._smb = tuple(s.mailbox for s in self.staff)
        self._pmb = tuple(p.mailbox for p in self.people)
        self.planted: tuple[PlantedCase, ...] = ()
        self._contact_refs = self._build_contact_refs()
        # Private and old-employer addresses, extra phones (connector/fake/company/addressbook.py).
        self._planted_people = frozenset(range(self._p_smith_harbour + 1))  # the planted people come first
        self._facts = addressbook.person_facts(seed, self.people, self.organisations, self._planted_people)
        self._int = Fanout(seed, "int", self.n, (1, 1, 2, 1, 3, 1, 2, 1), False)
        self._occ = Fanout(seed, "occ", self.n, (1, 2, 1), False)
        self._imr = Fanout(seed, "imr", self.n, (0, 1, 2, 0, 1), True)
        self._mtg = Fanout(seed, "mtg", self.n, MEETING_STAFF, False)
        self._xmtg = Fanout(seed, "xmtg", self.n, (0, 1, 0, 0, 1), True)
        self.layout = build_layout(self.scale, self.n, self._int, self._occ, self._imr, self._mtg, self._xmtg)
        self._folders: dict[tuple[int, str], LazyFolder] = {}

    # ---- public API ------------------------------------------------------------------------------

    @functools.cached_property
    def business(self) -> BusinessCase | None:
        """The planted business case (:mod:`connector.fake.company.business`); None in a toy company."""
        return business_case(self)

    def _business_user_fields(self, org: int) -> dict[str, str]:
        case = self.business
        return case.fields.get(org, {}) if case is not None else {}

    def mailboxes(self) -> tuple[Mailbox, ...]:
        """The staff mailboxes, in staff order."""
        return tuple(s.mailbox for s in self.staff)

    def folder(self, mailbox: str, folder: str) -> LazyFolder:
        """The lazy item sequence of one distinguished folder of one staff mailbox."""
        if folder not in FOLDER_KINDS:
            raise KeyError(f"unknown folder {folder!r}")
        m = self.staff_index(mailbox)
        key = (m, folder)
        if key not in self._folders:
            self._folders[key] = LazyFolder(self, m, folder, self._folder_len(folder))
        return self._folders[key]

    def staff_index(self, mailbox: str) -> int:
        """Index of a staff mailbox by e-mail address (case-insensitive)."""
        try:
            return self._staff_index[mailbox.lower()]
        except KeyError:
            raise KeyError(f"no mailbox {mailbox!r} in this company") from None

    def planted_case(self, kind: str) -> PlantedCase:
        """The planted duplicate or hard negative of one kind (see ``planted`` for the kinds)."""
        for case in self.planted:
            if case.kind == kind:
                return case
        raise KeyError(kind)

    def book(self, mailbox: str) -> tuple[Person, ...]:
        """The external people a staff member deals with (the source of their threads and contacts)."""
        return tuple(self.people[p] for p in self._books[self.staff_index(mailbox)])

    def item(self, m: int, folder: str, i: int) -> ItemSpec:
        """Item ``i`` of folder ``folder`` of mailbox index ``m`` (no bounds check; see LazyFolder)."""
        if folder == "inbox":
            return self._inbox(m, i)
        if folder == "sentitems":
            return self._sent(m, i)
        if folder == "contacts":
            return self._contact(m, i)
        if folder == "calendar":
            return self._calendar(m, i)
        return self._task(m, i)

    # ---- model building (once, cheap) ------------------------------------------------------------

    def _folder_len(self, folder: str) -> int:
        return self.scale.count(folder)


class LazyFolder(Sequence[ItemSpec]):
    """The items of one folder: ``len()`` is free, ``[i]`` generates item ``i`` on demand.

    Nothing is cached: reading the same index twice builds two equal items.
    """

    def __init__(self, company: FakeCompany, mailbox: int, folder: str, length: int) -> None:
        self._company, self._m, self._folder, self._len = company, mailbox, folder, length

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> ItemSpec: ...

    @overload
    def __getitem__(self, index: slice) -> list[ItemSpec]: ...

    def __getitem__(self, index: int | slice) -> ItemSpec | list[ItemSpec]:
        if isinstance(index, slice):
            return [self._company.item(self._m, self._folder, i) for i in range(*index.indices(self._len))]
        i = index + self._len if index < 0 else index
        if not 0 <= i < self._len:
            raise IndexError(f"{self._folder} index {index} out of range (len {self._len})")
        return self._company.item(self._m, self._folder, i)

    def __iter__(self) -> Iterator[ItemSpec]:
        for i in range(self._len):
            yield self._company.item(self._m, self._folder, i)


def build_company(
    seed: int, mailboxes: int, scale: str | Scale = "small", anchor: datetime | None = None
) -> FakeCompany:
    """Build the fake company for ``seed`` with ``mailboxes`` staff mailboxes.

    ``scale`` is a key of :data:`SCALES` or a :class:`Scale`; ``anchor`` is the "now" of the world
    (default :data:`DEFAULT_ANCHOR`). The same arguments give byte-identical items everywhere. Cost is
    independent of the scale: only the company model (a few hundred organisations and people) is built.
    """
    sc = SCALES[scale] if isinstance(scale, str) else scale
    return FakeCompany(seed, mailboxes, sc, anchor or DEFAULT_ANCHOR)


__all__ = [
    "DEFAULT_ANCHOR",
    "HISTORY_DAYS",
    "SCALES",
    "ContactLocation",
    "FakeCompany",
    "LazyFolder",
    "Organisation",
    "Person",
    "PlantedCase",
    "Scale",
    "Staff",
    "build_company",
    "occurrence_starts",
]
