"""Privacy rules, direction, organisation domains and the create-person policy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mapping.policy import (
    Decision,
    PersonPolicy,
    PrivacyRules,
    decide_meeting,
    decide_message,
    is_blocklisted,
    org_domain_for,
    should_create_person,
)
from mapping.records import Direction, MeetingRecord, MessageRecord, Participant, Role

OURS = frozenset({"northwind-traders.example"})
RULES = PrivacyRules()
WHEN = datetime(2026, 5, 4, 10, tzinfo=UTC)


def p(address: str, role: Role) -> Participant:
    return Participant(address=address, name=None, role=role)


def message(*participants: Participant, **overrides: Any) -> MessageRecord:
    fields: dict[str, Any] = {
        "item_id": "M1",
        "change_key": "ck",
        "folder": "inbox",
        "internet_message_id": "<1@acme.example>",
        "conversation_id": "C1",
        "subject": "Quote",
        "sent_at": WHEN,
        "received_at": WHEN,
        "participants": participants,
    }
    fields.update(overrides)
    return MessageRecord(**fields)


def meeting(*participants: Participant, **overrides: Any) -> MeetingRecord:
    fields: dict[str, Any] = {
        "item_id": "E1",
        "change_key": "ck",
        "uid": "UID-1",
        "occurrence_start": None,
        "start": WHEN,
        "end": WHEN,
        "is_all_day": False,
        "time_zone": "Europe/Berlin",
        "subject": "Review",
        "location": None,
        "participants": participants,
    }
    fields.update(overrides)
    return MeetingRecord(**fields)


STAFF = "dana@northwind-traders.example"
CUSTOMER = "jane@acme.example"

# --- messages ------------------------------------------------------------------------------------


def test_mail_from_staff_to_a_customer_is_outbound() -> None:
    decision = decide_message(message(p(STAFF, "from"), p(CUSTOMER, "to")), RULES, OURS)
    assert decision == Decision(store=True, direction="outbound", participants=(p(STAFF, "from"), p(CUSTOMER, "to")))


def test_mail_from_a_customer_is_inbound() -> None:
    decision = decide_message(message(p(CUSTOMER, "from"), p(STAFF, "to")), RULES, OURS)
    assert decision.store and decision.direction == "inbound"


def test_mail_from_a_staff_subdomain_is_outbound() -> None:
    decision = decide_message(message(p("ops@eu.northwind-traders.example", "from"), p(CUSTOMER, "to")), RULES, OURS)
    assert decision.direction == "outbound"


@pytest.mark.parametrize(("sensitivity", "reason"), [("private", "private"), ("confidential", "confidential")])
def test_private_and_confidential_mail_is_never_stored(sensitivity: str, reason: str) -> None:
    record = message(p(CUSTOMER, "from"), p(STAFF, "to"), sensitivity=sensitivity)
    assert decide_message(record, RULES, OURS) == Decision.skip(reason)  # type: ignore[arg-type]


def test_private_mail_is_stored_when_the_config_allows_it() -> None:
    rules = PrivacyRules(skip_private=False)
    record = message(p(CUSTOMER, "from"), p(STAFF, "to"), sensitivity="private")
    assert decide_message(record, rules, OURS).store


def test_personal_sensitivity_is_stored_by_default() -> None:
    record = message(p(CUSTOMER, "from"), p(STAFF, "to"), sensitivity="personal")
    assert decide_message(record, RULES, OURS).store
    assert decide_message(record, PrivacyRules(skip_personal=True), OURS).reason == "personal"


def test_internal_only_mail_is_skipped() -> None:
    record = message(p(STAFF, "from"), p("lee@northwind-traders.example", "to"))
    assert decide_message(record, RULES, OURS) == Decision.skip("internal-only")


def test_internal_only_mail_is_internal_when_kept() -> None:
    record = message(p(STAFF, "from"), p("lee@northwind-traders.example", "to"))
    decision = decide_message(record, PrivacyRules(skip_internal_only=False), OURS)
    assert decision.store and decision.direction == "internal"


@pytest.mark.parametrize("sender", ["noreply@shop.example", "No-Reply@Shop.example", "mailer-daemon@acme.example"])
def test_mail_from_machines_is_blocklisted(sender: str) -> None:
    record = message(p(sender.lower(), "from"), p(STAFF, "to"))
    assert decide_message(record, RULES, OURS) == Decision.skip("blocklisted")


def test_newsletter_domain_pattern_blocks_its_senders() -> None:
    rules = PrivacyRules(blocklist=("*@newsletter.example",))
    record = message(p("news@newsletter.example", "from"), p(STAFF, "to"))
    assert decide_message(record, rules, OURS).reason == "blocklisted"


def test_bare_domain_pattern_blocks_the_domain_and_its_subdomains() -> None:
    assert is_blocklisted("a@logistics-weekly.example", ["logistics-weekly.example"])
    assert is_blocklisted("a@mail.logistics-weekly.example", ["logistics-weekly.example"])
    assert not is_blocklisted("a@not-logistics-weekly.example", ["logistics-weekly.example"])


def test_blocklisted_recipient_is_dropped_but_the_mail_kept() -> None:
    record = message(p(STAFF, "from"), p(CUSTOMER, "to"), p("noreply@acme.example", "cc"))
    decision = decide_message(record, RULES, OURS)
    assert decision.store
    assert [x.address for x in decision.participants] == [STAFF, CUSTOMER]


def test_mail_only_to_a_blocklisted_address_is_skipped() -> None:
    record = message(p(STAFF, "from"), p("noreply@acme.example", "to"))
    assert decide_message(record, RULES, OURS).reason == "blocklisted"


def test_mail_without_message_id_is_skipped() -> None:
    record = message(p(CUSTOMER, "from"), p(STAFF, "to"), internet_message_id=None)
    assert decide_message(record, RULES, OURS) == Decision.skip("no-message-id")


def test_privacy_is_decided_before_anything_else() -> None:
    # A private mail from a blocklisted sender is counted as private: the stricter reason wins.
    record = message(p("noreply@acme.example", "from"), sensitivity="private")
    assert decide_message(record, RULES, OURS).reason == "private"


def test_sent_item_without_sender_is_outbound() -> None:
    record = message(p(CUSTOMER, "to"), folder="sentitems")
    assert decide_message(record, RULES, OURS).direction == "outbound"
    assert decide_message(message(p(CUSTOMER, "to")), RULES, OURS).direction == "inbound"


# --- meetings ------------------------------------------------------------------------------------


def test_meeting_organised_by_staff_is_outbound() -> None:
    record = meeting(p(STAFF, "organizer"), p(CUSTOMER, "required"))
    assert decide_meeting(record, RULES, OURS).direction == "outbound"


def test_meeting_organised_by_a_customer_is_inbound() -> None:
    record = meeting(p(CUSTOMER, "organizer"), p(STAFF, "required"))
    assert decide_meeting(record, RULES, OURS).direction == "inbound"


def test_personal_appointment_is_internal_only() -> None:
    assert decide_meeting(meeting(p(STAFF, "organizer")), RULES, OURS).reason == "internal-only"


def test_private_meeting_is_never_stored() -> None:
    record = meeting(p(STAFF, "organizer"), p(CUSTOMER, "required"), sensitivity="private")
    assert decide_meeting(record, RULES, OURS).reason == "private"


def test_cancelled_customer_meeting_is_still_stored() -> None:
    record = meeting(p(CUSTOMER, "organizer"), p(STAFF, "required"), is_cancelled=True)
    assert decide_meeting(record, RULES, OURS).store


def test_meeting_without_uid_is_skipped() -> None:
    record = meeting(p(CUSTOMER, "organizer"), uid=None)
    assert decide_meeting(record, RULES, OURS) == Decision.skip("no-uid")


def test_meeting_without_participants_is_skipped() -> None:
    assert decide_meeting(meeting(), RULES, OURS).reason == "no-participants"


# --- organisations from addresses ----------------------------------------------------------------


def test_free_mail_sender_gets_no_organisation() -> None:
    assert org_domain_for("jane.doe@gmail.com", OURS) is None
    assert org_domain_for("jane.doe@hotmail.com", OURS) is None


def test_our_own_domain_gets_no_organisation() -> None:
    assert org_domain_for(STAFF, OURS) is None
    assert org_domain_for("ops@eu.northwind-traders.example", OURS) is None


def test_subdomain_address_belongs_to_the_registrable_domain() -> None:
    assert org_domain_for("jane@sales.acme.co.uk", OURS) == "acme.co.uk"
    assert org_domain_for("Jane@Mail.ACME.example", OURS) == "acme.example"


@pytest.mark.parametrize("address", ["not an address", "jane@", "@acme.example", "jane@localhost", "jane@co.uk"])
def test_invalid_address_gets_no_organisation(address: str) -> None:
    assert org_domain_for(address, OURS) is None


# --- creating people -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "direction", "role", "expected"),
    [
        ("sent", "outbound", "to", True),
        ("sent", "outbound", "cc", True),
        ("sent", "outbound", "required", True),
        ("sent", "inbound", "from", False),
        ("sent", "inbound", "cc", False),
        ("sent", "inbound", "organizer", False),
        ("sent_and_received", "inbound", "from", True),
        ("sent_and_received", "inbound", "cc", True),
        ("sent_and_received", "outbound", "to", True),
        ("never", "outbound", "to", False),
        ("never", "inbound", "from", False),
        ("sent_and_received", "internal", "to", False),
    ],
)
def test_unknown_participants_become_people_by_policy(
    policy: PersonPolicy, direction: Direction, role: Role, expected: bool
) -> None:
    assert should_create_person(p(CUSTOMER, role), direction, policy, OURS) is expected


def test_staff_never_become_people() -> None:
    assert not should_create_person(p(STAFF, "to"), "outbound", "sent_and_received", OURS)
