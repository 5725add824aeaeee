"""The business case planted in a generated company (issue 16), so `relsync demo` shows each part.

Chosen deterministically from the company's own customers (never a planted duplicate case's):

- ``thank_you``: a customer staff correspond with, whose latest order is a large one two days ago;
  its contacts carry a "What matters" note;
- ``win_back``: a customer staff correspond with, who ordered every month and stopped five months ago;
- ``referrer`` and ``referred``: the referred customer's contacts name the referrer in "Referred By",
  and it placed its first order three days ago;
- ``parent`` and ``subsidiaries``: the subsidiaries' contacts name the parent in "Parent Organization",
  and the group buys well over a quarter of everything (a concentration warning).

"Staff correspond with" means customer threads both in Sent Items and in the Inbox (so the relationship has an
owner to receive the follow-up); "contacts" means people of the organisation in some Contacts folder
(so the user field is synced). :mod:`connector.fake.company.sales` writes the matching sales rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connector.fake.company import addressbook

#: The Outlook user-defined fields the planted case uses (relsync's defaults).
REFERRED_BY, PARENT, WHAT_MATTERS = "Referred By", "Parent Organization", "What matters"
NOTE = "On-time delivery; one invoice per month; a named engineer on call"
#: The items looked at per folder and mailbox (enough at any scale, cheap at the large one).
_ITEMS_SCANNED = 3000
#: How recent a thread must be (before the anchor) to make its customer's owner in a demo run soon after.
_RECENT_DAYS = 120


@dataclass(frozen=True)
class BusinessCase:
    """Organisation indexes of the planted business case (see the module docstring)."""

    thank_you: int
    win_back: int
    referrer: int
    referred: int
    parent: int
    subsidiaries: tuple[int, ...]
    fields: dict[int, dict[str, str]] = field(default_factory=dict)  # organisation -> user fields

    @property
    def controlled(self) -> frozenset[int]:
        """Organisations whose whole sales history the business case writes."""
        return frozenset((self.thank_you, self.win_back, self.referred, self.parent, *self.subsidiaries))


def business_case(company: Any) -> BusinessCase | None:
    # ``company`` is the generator's FakeCompany, untyped here: naming it would import the generator,
    # which imports this module (an import cycle).
    """The planted business case of ``company`` (None: too few customers, as in a one-mailbox toy)."""
    planted_orgs = {company.people[p].org for p in company._planted_people} | set(range(5))
    customers = [o.index for o in company.organisations if o.kind == "customer" and o.index not in planted_orgs]
    in_contacts: set[int] = set()
    for refs in company._contact_refs:
        for i, (who, idx, _variant) in enumerate(refs[: company.scale.contacts]):
            if who == "person" and not addressbook.is_role_slot(i):
                in_contacts.add(company.people[idx].org)
    # Ownership counts two-way interactions of the last 180 days (relsync's default): the customers with
    # the most recent two-way thread (messages both in Sent Items and in the Inbox).
    recent = company.anchor - timedelta(days=_RECENT_DAYS)
    latest: dict[int, datetime] = {}

    def saw(org: int, when: datetime) -> None:
        if when >= recent and (org not in latest or when > latest[org]):
            latest[org] = when

    for m in range(company.n):
        seen: dict[str, dict[int, tuple[int, datetime]]] = {"sentitems": {}, "inbox": {}}
        for folder, threads in seen.items():
            for i in range(min(company.scale.count(folder), _ITEMS_SCANNED)):
                item = company.item(m, folder, i)
                person = int(item.extra.get("person", -1))
                if item.extra.get("kind") == "thread" and person >= 0 and not item.extra.get("freemail"):
                    threads[int(item.extra["thread"])] = (company.people[person].org, item.fields["DateTimeSent"])
        for h in seen["sentitems"].keys() & seen["inbox"].keys():
            saw(seen["sentitems"][h][0], min(seen["sentitems"][h][1], seen["inbox"][h][1]))
    talked = sorted((o for o in customers if o in latest), key=lambda o: (latest[o], o), reverse=True)
    # The referred customer and the subsidiaries need contacts (their user fields); any kind will do (a
    # prospect placing its first order is what a referral brings).
    others = [o.index for o in company.organisations if o.index not in planted_orgs and o.index in in_contacts]
    if len(talked) < 3:
        return None
    thank_you = next((o for o in talked if o in in_contacts), talked[0])
    win_back, referrer = [o for o in talked if o != thank_you][:2]
    rest = [o for o in others if o not in (thank_you, win_back, referrer)]
    if len(rest) < 3:
        return None
    referred, s1, s2 = rest[:3]
    parent = next(o for o in customers if o not in (thank_you, win_back, referrer, referred, s1, s2))
    names = company.organisations
    fields: dict[int, dict[str, str]] = {
        thank_you: {WHAT_MATTERS: NOTE},
        referred: {REFERRED_BY: names[referrer].name},
        s1: {PARENT: names[parent].name},
        s2: {PARENT: names[parent].name},
    }
    return BusinessCase(thank_you, win_back, referrer, referred, parent, (s1, s2), fields)
