"""Where ``--to-outlook`` puts each imported person: a mailbox rule places everyone there; ``owner`` places
each by the row's owner cell (an address, or a user's name or login as legacy CRMs export it), a cell
naming no configured mailbox, or a name two mailboxes share, is skipped; a bad rule is one sentence."""

from __future__ import annotations

import pytest

from mapping.contact_import.to_outlook import (
    Placement,
    ToOutlookError,
    check_rule,
    mailbox_names,
    owner_mailbox,
    place,
)

MAILBOXES = ["ann.lee@example.com", "raj.iyer@example.com"]


def test_a_rule_is_owner_or_a_configured_mailbox_in_any_case() -> None:
    assert check_rule(" Owner ", MAILBOXES) == "owner"
    assert check_rule("Ann.Lee@Example.com", MAILBOXES) == "ann.lee@example.com"
    with pytest.raises(ToOutlookError) as err:
        check_rule("bob@example.com", MAILBOXES)
    assert err.value.sentences() == [
        "import contacts: --to-outlook 'bob@example.com': not a configured staff mailbox; give one of [mailboxes] "
        "addresses or 'owner' (each row's owner column)"
    ]


def test_an_owner_cell_names_a_mailbox_by_its_address_even_with_a_name_around_it() -> None:
    assert owner_mailbox("Ann Lee <ANN.LEE@example.com>", MAILBOXES) == "ann.lee@example.com"
    assert owner_mailbox("raj.iyer@example.com", MAILBOXES) == "raj.iyer@example.com"
    assert owner_mailbox("Ann Lee", MAILBOXES) is None
    assert owner_mailbox("someone@elsewhere.example", MAILBOXES) is None
    assert owner_mailbox(None, MAILBOXES) is None


def test_owner_places_each_person_by_their_cell_and_a_mailbox_rule_places_everyone() -> None:
    people = {1: {"Owner": "ann.lee@example.com"}, 2: {"Owner": "Nobody Here"}, 3: None}
    assert place("owner", people, MAILBOXES) == [
        Placement(1, "ann.lee@example.com", "ann.lee@example.com"),
        Placement(2, None, "Nobody Here"),
        Placement(3, None, None),
    ]
    assert place("raj.iyer@example.com", people, MAILBOXES) == [
        Placement(1, "raj.iyer@example.com"),
        Placement(2, "raj.iyer@example.com"),
        Placement(3, "raj.iyer@example.com"),
    ]


NAMES = mailbox_names(
    {"ann.lee@example.com": ["Ann Lee"], "raj.iyer@example.com": ["Iyer, Raj"], "a.lee@example.com": ["Ann Lee"]}
)


def test_an_owner_cell_names_a_mailbox_by_its_users_name_or_login_in_any_case_and_order() -> None:
    boxes = [*MAILBOXES, "a.lee@example.com"]
    assert owner_mailbox("Raj Iyer", boxes, NAMES) == "raj.iyer@example.com"
    assert owner_mailbox("IYER,  RAJ", boxes, NAMES) == "raj.iyer@example.com"
    assert owner_mailbox("raj.iyer", boxes, NAMES) == "raj.iyer@example.com"  # a login: the local part
    assert owner_mailbox("Ann.Lee", boxes, NAMES) == "ann.lee@example.com"


def test_a_name_two_mailboxes_share_or_an_unknown_name_names_no_mailbox() -> None:
    boxes = [*MAILBOXES, "a.lee@example.com"]
    assert owner_mailbox("Ann Lee", boxes, NAMES) is None  # two mailboxes are "Ann Lee": neither
    assert owner_mailbox("Lee, Ann", boxes, NAMES) is None
    assert owner_mailbox("Bob Stone", boxes, NAMES) is None
    assert owner_mailbox("Raj Iyer", MAILBOXES[:1], NAMES) is None  # his mailbox is not configured
    assert owner_mailbox("Raj Iyer <raj@elsewhere.example>", boxes, NAMES) is None  # an address rules
    people = {1: {"Owner": "Iyer, Raj"}, 2: {"Owner": "Ann Lee"}}
    assert place("owner", people, boxes, NAMES) == [
        Placement(1, "raj.iyer@example.com", "Iyer, Raj"),
        Placement(2, None, "Ann Lee"),
    ]
