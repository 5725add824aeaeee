"""The Outlook add-in's pure decisions: which addresses of an item to look up, what unknown people need.

An item's addresses come from Outlook (``from``, ``to``, ``cc``, ``organizer``, attendees), so anything
can arrive: hundreds of recipients, a draft without a sender, a 2 KB string, only colleagues.
:func:`triage` turns them into at most :data:`MAX_LOOKUP` distinct external addresses to look up and
counts the rest by why they were left out; it never raises.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from mapping.hygiene import is_internal, normalise_email

#: Addresses read from one item at most (an item with more recipients is cut, and says so).
MAX_ITEM_ADDRESSES = 1000
#: The longest address considered (RFC 5321: 64 for the local part, 255 for the domain, and the "@").
MAX_ADDRESS_LENGTH = 320
#: Distinct external addresses looked up per item (the rest are counted as "more").
MAX_LOOKUP = 500

#: What makes someone a relationship in relsync (shown for an unknown external address).
HOW_TO_BECOME_KNOWN = (
    "relsync adds a person once a staff mailbox has a two-way conversation with them (they write to us and "
    "we reply, or a meeting with them took place), or when staff save them as an Outlook contact; the next "
    "sync then shows them here."
)


@dataclass(frozen=True, slots=True)
class Triage:
    """An item's addresses sorted out: ``external`` to look up (normalised, first-seen order), and how
    many were ``internal`` (our own domains), ``invalid`` (blank, too long, not an address), beyond the
    lookup limit (``more``) or beyond what one item is read for (``cut``)."""

    external: tuple[str, ...]
    internal: int = 0
    invalid: int = 0
    more: int = 0
    cut: int = 0

    @property
    def empty_reason(self) -> str | None:
        """Why there is nobody to show (None: there is someone to look up)."""
        if self.external:
            return None
        if self.internal and not self.invalid:
            return "Only people of your own organisation are on this item: there is no relationship to show."
        if self.invalid and not self.internal:
            return (
                "This item has no usable e-mail address yet (a draft without recipients, or an address "
                "that is not one)."
            )
        if self.internal:
            return "Only people of your own organisation, and no other usable address, are on this item."
        return "This item has nobody on it yet: add recipients and the card follows."


def triage(addresses: Iterable[object], internal_domains: Collection[str]) -> Triage:
    """Sort an item's raw addresses (any values; non-strings are invalid) for lookup."""
    seen: set[str] = set()
    external: list[str] = []
    internal = invalid = more = cut = 0
    for n, raw in enumerate(addresses):
        if n >= MAX_ITEM_ADDRESSES:
            cut += 1
            continue
        if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_ADDRESS_LENGTH:
            invalid += 1
            continue
        record = normalise_email(raw)
        if record is None or not record.is_valid or len(record.address) > MAX_ADDRESS_LENGTH:
            invalid += 1
            continue
        address = record.address
        if address in seen:
            continue
        seen.add(address)
        if is_internal(address, internal_domains):
            internal += 1
        elif len(external) >= MAX_LOOKUP:
            more += 1
        else:
            external.append(address)
    return Triage(tuple(external), internal, invalid, more, cut)


__all__ = ["HOW_TO_BECOME_KNOWN", "MAX_ADDRESS_LENGTH", "MAX_ITEM_ADDRESSES", "MAX_LOOKUP", "Triage", "triage"]
