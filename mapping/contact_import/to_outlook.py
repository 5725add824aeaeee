"""``--to-outlook OWNER_OR_RULE``: whose Contacts folder an imported person goes into (pure: no I/O).

The rule is a staff mailbox address (every person goes there) or ``owner`` (each person goes to the
mailbox their row's owner column names; a person whose owner is not a configured mailbox is skipped
and listed). Addresses compare case-insensitively; an owner cell may hold the address with a name
around it ("Ann Lee <ann.lee@example.com>").
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


def owner_mailbox(owner: str | None, mailboxes: Collection[str]) -> str | None:
    """The configured mailbox an owner cell names, or None."""
    if not owner:
        return None
    known = {m.casefold() for m in mailboxes}
    for candidate in (str(c) for c in _ADDRESS.findall(owner)):
        if candidate.casefold() in known:
            return candidate.casefold()
    return None


def place(rule: str, people: Mapping[int, Mapping[str, str] | None], mailboxes: Collection[str]) -> list[Placement]:
    """Each person (id -> their user fields) placed by ``rule`` (already :func:`check_rule`-ed)."""
    out: list[Placement] = []
    for person_id, fields in people.items():
        if rule != OWNER_RULE:
            out.append(Placement(person_id, rule))
            continue
        owner = (fields or {}).get(OWNER_FIELD)
        out.append(Placement(person_id, owner_mailbox(owner, mailboxes), owner))
    return out
