"""What the sync keeps, and whom it creates: privacy rules and the participant policy, as pure decisions.

The engine asks :func:`decide_message` / :func:`decide_meeting` for every item; a :class:`Decision` says
either *store* (with the direction seen from our side and the participants worth keeping) or *skip*
(with a short, stable reason string the engine counts and logs). Reasons:

``"no-message-id"``   an e-mail without Internet-Message-ID cannot be deduplicated across mailboxes
``"no-uid"``          a meeting without UID, likewise
``"private"``         sensitivity Private and ``skip_private``
``"confidential"``    sensitivity Confidential and ``skip_confidential``
``"personal"``        sensitivity Personal and ``skip_personal`` (off by default)
``"blocklisted"``     the sender/organiser is blocklisted, or every external participant is
``"internal-only"``   nobody outside our own domains takes part, and ``skip_internal_only``
``"no-participants"`` nobody with an address at all
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Literal

from mapping.hygiene import email_domain, is_free_mail, is_internal, registrable_domain
from mapping.records import ORIGINATOR_ROLES, Direction, MeetingRecord, MessageRecord, Participant, Sensitivity

SkipReason = Literal[
    "no-message-id",
    "no-uid",
    "private",
    "confidential",
    "personal",
    "blocklisted",
    "internal-only",
    "no-participants",
]
PersonPolicy = Literal["sent", "sent_and_received", "never"]

#: Senders that are machines, not relationships. Config may replace or extend this.
DEFAULT_BLOCKLIST: tuple[str, ...] = (
    "noreply@*",
    "no-reply@*",
    "no_reply@*",
    "donotreply@*",
    "do-not-reply@*",
    "mailer-daemon@*",
    "postmaster@*",
    "bounce@*",
    "bounces@*",
    "bounce-*@*",
)


@dataclass(frozen=True, slots=True)
class PrivacyRules:
    """What not to store (configuration, not code).

    ``blocklist`` holds case-insensitive glob patterns: with an ``@`` they match the whole address
    (``noreply@*``, ``*@newsletter.example``); without one they match a domain and its subdomains
    (``newsletter.example`` matches ``news@mail.newsletter.example`` too).
    ``snippet_chars``: how much of a body the connector may keep as a snippet (0: none).
    """

    skip_private: bool = True
    skip_confidential: bool = True
    skip_personal: bool = False
    skip_internal_only: bool = True
    blocklist: tuple[str, ...] = DEFAULT_BLOCKLIST
    snippet_chars: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """Store (``direction`` set, ``participants`` to keep) or skip (``reason`` set)."""

    store: bool
    direction: Direction | None = None
    participants: tuple[Participant, ...] = ()
    reason: SkipReason | None = None

    @classmethod
    def skip(cls, reason: SkipReason) -> Decision:
        """A decision not to store, with its reason."""
        return cls(store=False, reason=reason)


def is_blocklisted(address: str, patterns: Iterable[str]) -> bool:
    """True when the (normalised) address matches one of the blocklist patterns (see :class:`PrivacyRules`)."""
    return _blocklisted(address.lower(), patterns if isinstance(patterns, tuple) else tuple(patterns))


# Every participant of every item is checked: the patterns are compiled once into one regular
# expression per kind, and the answer for an address is remembered (mailboxes repeat addresses a lot).
@functools.lru_cache(maxsize=65536)
def _blocklisted(address: str, patterns: tuple[str, ...]) -> bool:
    whole, domains = _compiled(patterns)
    if whole is not None and whole.match(address):
        return True
    domain = email_domain(address) or ""
    return bool(domain) and domains is not None and domains.match(domain) is not None


@functools.lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """(addresses, domains): ``user@host`` patterns match the whole address, the others a domain and
    its subdomains; each alternative is fnmatch's own translation, so the matching is fnmatch's."""
    whole: list[str] = []
    domains: list[str] = []
    for raw in patterns:
        pattern = raw.strip().lower()
        if not pattern:
            continue
        if "@" in pattern:
            whole.append(fnmatch.translate(pattern))
        else:
            domains += [fnmatch.translate(pattern), fnmatch.translate("*." + pattern)]

    def one(parts: list[str]) -> re.Pattern[str] | None:
        return re.compile("|".join(f"(?:{part})" for part in parts)) if parts else None

    return one(whole), one(domains)


def _sensitivity_reason(sensitivity: Sensitivity, rules: PrivacyRules) -> SkipReason | None:
    if sensitivity == "private" and rules.skip_private:
        return "private"
    if sensitivity == "confidential" and rules.skip_confidential:
        return "confidential"
    if sensitivity == "personal" and rules.skip_personal:
        return "personal"
    return None


def _decide(
    originator: Participant | None,
    participants: tuple[Participant, ...],
    sensitivity: Sensitivity,
    rules: PrivacyRules,
    internal_domains: Collection[str],
    originator_is_us: bool | None,
) -> Decision:
    reason = _sensitivity_reason(sensitivity, rules)
    if reason is not None:
        return Decision.skip(reason)
    if not participants:
        return Decision.skip("no-participants")
    internal = frozenset(internal_domains)
    blocklist = rules.blocklist if isinstance(rules.blocklist, tuple) else tuple(rules.blocklist)
    originator_flags = _blocked_internal(originator.address, blocklist, internal) if originator is not None else None
    if originator_flags is not None and originator_flags[0]:
        return Decision.skip("blocklisted")
    flags = [_blocked_internal(p.address, blocklist, internal) for p in participants]
    kept = tuple(p for p, (blocked, _) in zip(participants, flags, strict=True) if not blocked)
    externals = any(not ours for _, ours in flags)
    kept_externals = any(not blocked and not ours for blocked, ours in flags)
    if externals and not kept_externals:
        # Only machines outside (we mailed a no-reply address): nothing relationship-worthy.
        return Decision.skip("blocklisted")
    # No sender on the item (rare: drafts, some Sent Items): fall back to where it was found.
    ours = originator_flags[1] if originator_flags is not None else bool(originator_is_us)
    if not kept_externals:
        if rules.skip_internal_only:
            return Decision.skip("internal-only")
        return Decision(store=True, direction="internal", participants=kept)
    return Decision(store=True, direction="outbound" if ours else "inbound", participants=kept)


# Asked for every participant of every item (three or four an e-mail), with the same few thousand
# addresses: one cached answer for both questions, where two cached calls each cost their own lookups.
@functools.lru_cache(maxsize=65536)
def _blocked_internal(address: str, blocklist: tuple[str, ...], internal: frozenset[str]) -> tuple[bool, bool]:
    """(blocklisted, internal) for a participant's address."""
    return is_blocklisted(address, blocklist), is_internal(address, internal)


def decide_message(record: MessageRecord, rules: PrivacyRules, internal_domains: Collection[str]) -> Decision:
    """Store or skip an e-mail, and its direction seen from our side.

    Sender internal -> ``outbound``; anyone else -> ``inbound``; nobody external -> ``internal`` (or
    skipped as ``internal-only``). Privacy comes first: a private item is skipped before anything
    else is looked at. Blocklisted participants are dropped from the participants to store.
    """
    if not record.internet_message_id:
        return Decision.skip("no-message-id")
    return _decide(
        record.sender,
        record.participants,
        record.sensitivity,
        rules,
        internal_domains,
        originator_is_us=record.folder == "sentitems",
    )


def decide_meeting(record: MeetingRecord, rules: PrivacyRules, internal_domains: Collection[str]) -> Decision:
    """Store or skip a meeting (single, master or occurrence); direction from the organiser.

    Organiser internal -> ``outbound`` (we invited them), external -> ``inbound``. Cancelled meetings
    are stored (``is_cancelled`` on the record) so a cancelled customer meeting stays visible.
    A meeting nobody external attends (a staff-only meeting, a personal appointment) is internal.
    """
    if not record.uid:
        return Decision.skip("no-uid")
    return _decide(
        record.organizer,
        record.participants,
        record.sensitivity,
        rules,
        internal_domains,
        originator_is_us=True,  # an appointment without organiser is the mailbox owner's own
    )


def org_domain_for(address: str, internal_domains: Collection[str]) -> str | None:
    """The organisation domain an external address belongs to, e.g. ``jane@sales.acme.co.uk`` -> ``acme.co.uk``.

    ``None`` for free-mail (gmail.com: the person has no organisation from the address), for our own
    domains (no company for ourselves) and for anything without a registrable domain.
    """
    return _org_domain_for(address, frozenset(internal_domains))


@functools.lru_cache(maxsize=65536)  # asked for every address of every page, with the same few thousand
def _org_domain_for(address: str, internal_domains: frozenset[str]) -> str | None:
    domain = email_domain(address.strip().lower())
    if domain is None:
        return None
    if is_internal(domain, internal_domains) or is_free_mail(domain):
        return None
    return registrable_domain(domain)


def should_create_person(
    participant: Participant,
    direction: Direction,
    policy: PersonPolicy,
    internal_domains: Collection[str] = (),
) -> bool:
    """Whether an *unknown* participant becomes a new person, under the configured policy.

    ``"sent"``: only people we wrote to or invited (recipients of outbound mail and meetings) - the
    safest, since anyone can mail us. ``"sent_and_received"``: also the sender and other recipients of
    inbound mail and meetings. ``"never"``: people come only from contacts. Our own staff never
    become people (``internal_domains``), and internal-only interactions create nobody.
    """
    if policy == "never" or direction == "internal":
        return False
    if internal_domains and is_internal(participant.address, frozenset(internal_domains)):
        return False
    if policy == "sent":
        return direction == "outbound" and participant.role not in ORIGINATOR_ROLES
    return direction in ("outbound", "inbound")
