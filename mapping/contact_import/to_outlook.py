"""``--to-outlook OWNER_OR_RULE``: whose Contacts folder an imported person goes into (pure: no I/O).

The rule is a staff mailbox address (every person goes there) or ``owner`` (each person goes to the
mailbox their row's owner column names; a person whose owner is not a configured mailbox is skipped
and listed). Addresses compare case-insensitively; an owner cell may hold the address with a name
around it ("Ann Lee <ann.lee@example.com>"). Legacy CRMs mostly export the owner as a user's name
("Ann Lee", "LEE, ANN", or a login such as "ann.lee"): a cell without an address names the mailbox
whose display name or address local part it spells (case, spacing and "Surname, Given" order aside),
unless two mailboxes share that name (then it names neither, and the person is skipped and listed).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from mapping.errors import EXIT_USAGE, RelsyncError

OWNER_RULE = "owner"
#: The user field the import writes a row's owner column into (``mapping.contact_import.profiles``).
OWNER_FIELD = "Owner"
_ADDRESS = re.compile(r"[^\s<>\"',;]+@[^\s<>\"',;]+")


class ToOutlookError(RelsyncError):
    """``--to-outlook`` names neither ``owner`` nor a configured staff mailbox, or cannot run."""

    exit_code = EXIT_USAGE
    topic = "import contacts"


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one person's contact goes: ``mailbox``, or None with ``owner`` (the cell that named nobody)."""

    person_id: int
    mailbox: str | None
    owner: str | None = None


def check_rule(rule: str, mailboxes: Collection[str]) -> str:
    """The rule, normalised (``owner`` or a configured mailbox address, lower case), or raise."""
    text = rule.strip()
    if text.casefold() == OWNER_RULE:
        return OWNER_RULE
    known = {m.casefold() for m in mailboxes}
    if text.casefold() in known:
        return text.casefold()
    raise ToOutlookError(
        f"--to-outlook {rule!r}: not a configured staff mailbox; give one of [mailboxes] addresses "
        f"or 'owner' (each row's owner column)"
    )


def _name_key(text: str) -> str:
    """A person's name or login as compared: "LEE, Ann" and " ann  lee " are both "ann lee"."""
    text = " ".join(text.replace(",", ", ").split()).casefold()
    if text.count(",") == 1:  # "Surname, Given" (the order legacy CRMs list users in)
        surname, given = (part.strip() for part in text.split(","))
        text = f"{given} {surname}".strip()
    return text


def mailbox_names(names: Mapping[str, Collection[str]]) -> dict[str, str]:
    """Mailbox address -> the names its user goes by, as the keys an owner cell may spell -> the
    address: each of those names and the address's local part. A key two mailboxes share is left out."""
    found: dict[str, set[str]] = {}
    for address, its_names in names.items():
        address = address.casefold()
        keys = {_name_key(n) for n in its_names} | {_name_key(address.split("@", 1)[0])}
        for key in keys - {""}:
            found.setdefault(key, set()).add(address)
    return {key: next(iter(addresses)) for key, addresses in found.items() if len(addresses) == 1}


def owner_mailbox(owner: str | None, mailboxes: Collection[str], names: Mapping[str, str] | None = None) -> str | None:
    """The configured mailbox an owner cell names (by address; else by name through ``names``, from
    :func:`mailbox_names`), or None."""
    if not owner:
        return None
    known = {m.casefold() for m in mailboxes}
    addresses = [str(c) for c in _ADDRESS.findall(owner)]
    for candidate in addresses:
        if candidate.casefold() in known:
            return candidate.casefold()
    if addresses or not names:
        return None
    by_name = names.get(_name_key(owner))
    return by_name if by_name in known else None


def place(
    rule: str,
    people: Mapping[int, Mapping[str, str] | None],
    mailboxes: Collection[str],
    names: Mapping[str, str] | None = None,
) -> list[Placement]:
    """Each person (id -> their user fields) placed by ``rule`` (already :func:`check_rule`-ed); an owner
    cell may name a mailbox by its address or, through ``names`` (:func:`mailbox_names`), its name."""
    out: list[Placement] = []
    for person_id, fields in people.items():
        if rule != OWNER_RULE:
            out.append(Placement(person_id, rule))
            continue
        owner = (fields or {}).get(OWNER_FIELD)
        out.append(Placement(person_id, owner_mailbox(owner, mailboxes, names), owner))
    return out
