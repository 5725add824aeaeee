"""What never reaches the store: private and confidential items, internal-only mail, machines."""

from __future__ import annotations

from connector.fake.model import Mailbox
from mapping.changes import SyncRules
from mapping.policy import DEFAULT_BLOCKLIST, PrivacyRules
from tests.e2e.syncenv import (
    ALICE,
    BOB,
    DANA,
    DOMAIN,
    ERIN,
    GINA,
    T0,
    EnvFactory,
    HandCompany,
    contact,
    meeting,
    message,
)

NOREPLY = Mailbox("Shop", "noreply@shop.example")
NEWS = Mailbox("News", "news@mail.newsletter.example")


def test_private_and_confidential_items_never_reach_the_store(make_env: EnvFactory, db_url: str) -> None:
    a = ALICE.email
    c = HandCompany(
        items={
            (a, "inbox"): [
                message(1, "SECRET-private-subject", DANA, [ALICE], Sensitivity="Private"),
                message(2, "SECRET-confidential-subject", ERIN, [ALICE], Sensitivity="Confidential"),
                message(3, "Normal offer", DANA, [ALICE]),
            ],
            (a, "calendar"): [meeting(1, "SECRET-private-meeting", T0, ALICE, [ERIN], Sensitivity="Private")],
            (a, "contacts"): [contact(1, "Secret Contact", "secret.person@hidden.example", Sensitivity="Private")],
        }
    )
    env = make_env(c, url=db_url)
    report = env.sync()
    assert report.ok, report.error
    skipped = {f.folder: dict(f.result.skipped) for f in report.folders}
    assert skipped["inbox"] == {"private": 1, "confidential": 1}
    assert skipped["calendar"] == {"private": 1}
    assert env.subjects() == {"Normal offer"}
    assert env.count("interactions") == 1
    text = env.dump_text()
    assert "SECRET" not in text and "secret" not in text.lower()
    assert "hidden.example" not in text
    assert ERIN.email not in text  # the only place erin appeared was a confidential mail and a private meeting


def test_an_item_that_becomes_private_later_is_removed(make_env: EnvFactory) -> None:
    a = ALICE.email
    c = HandCompany(
        items={
            (a, "inbox"): [message(1, "Lunch plans", DANA, [ALICE]), message(2, "Offer", DANA, [ALICE])],
            (a, "calendar"): [meeting(1, "Dinner", T0, ALICE, [ERIN])],
            (a, "contacts"): [contact(1, "Dana Dunn", DANA.email)],
        }
    )
    env = make_env(c)
    assert env.sync(folders=["inbox", "calendar", "contacts"]).ok
    assert env.subjects() == {"Lunch plans", "Offer", "Dinner"}
    mb = env.mb()
    lunch = next(i for i, s in mb.items("inbox") if s.fields["Subject"] == "Lunch plans")
    mb.update(lunch, Sensitivity="Private")
    mb.update(next(i for i, _ in mb.items("calendar")), Sensitivity="Confidential")
    mb.update(next(i for i, _ in mb.items("contacts")), Sensitivity="Private")
    report = env.sync(folders=["inbox", "calendar", "contacts"])
    assert report.ok
    assert {f.folder: dict(f.result.skipped) for f in report.folders} == {
        "inbox": {"private": 1},
        "calendar": {"confidential": 1},
        "contacts": {"private": 1},
    }
    assert env.live_links("contacts") == 0  # the private contact is no longer a source
    assert env.subjects() == {"Offer"}
    text = env.dump_text()
    assert "Lunch plans" not in text and "Dinner" not in text
    assert env.count("interaction_participants") == env.count(
        "interaction_participants p JOIN interactions i ON i.id = p.interaction_id", "i.subject = 'Offer'"
    )


def test_internal_only_mail_and_machines_are_not_stored(make_env: EnvFactory) -> None:
    a = ALICE.email
    c = HandCompany(
        items={
            (a, "inbox"): [
                message(1, "Team lunch", BOB, [ALICE]),
                message(2, "Your order has shipped", NOREPLY, [ALICE]),
                message(3, "Weekly digest", NEWS, [ALICE]),
                message(4, "Real customer", DANA, [ALICE]),
            ],
            (a, "calendar"): [meeting(1, "Staff meeting", T0, ALICE, [BOB])],
        }
    )
    rules = SyncRules(
        internal_domains=frozenset({DOMAIN}), privacy=PrivacyRules(blocklist=(*DEFAULT_BLOCKLIST, "newsletter.example"))
    )
    env = make_env(c, rules=rules)
    report = env.sync(folders=["inbox", "calendar"])
    assert report.ok
    skipped = {f.folder: dict(f.result.skipped) for f in report.folders}
    assert skipped["inbox"] == {"internal-only": 1, "blocklisted": 2}
    assert skipped["calendar"] == {"internal-only": 1}
    assert env.subjects() == {"Real customer"}
    assert "noreply@shop.example" not in env.dump_text()


def test_free_mail_and_own_domain_get_no_organisation(make_env: EnvFactory) -> None:
    a = ALICE.email
    c = HandCompany(
        items={
            (a, "sentitems"): [message(1, "Quote for you", ALICE, [GINA, DANA], CcRecipients=(BOB,))],
            (a, "contacts"): [contact(1, "Gina Gmail", GINA.email, CompanyName=None)],
        }
    )
    env = make_env(c)
    assert env.sync(folders=["contacts", "sentitems"]).ok
    orgs = {r[0] for r in env.rows("SELECT domain FROM organisation_domains")}
    assert orgs == {"fabrikam.example"}
    assert env.scalar("SELECT organisation_id FROM people WHERE display_name = 'Gina Gmail'") is None
    assert env.count("people", "display_name LIKE '%Bob%'") == 0  # staff never become people
    assert env.count("organisations", "lower(name) LIKE '%contoso%' OR lower(name) LIKE '%gmail%'") == 0
    # the customer we wrote to became a person of her organisation
    dana_org = env.scalar(
        "SELECT o.name FROM people p JOIN organisations o ON o.id = p.organisation_id "
        "JOIN email_addresses e ON e.person_id = p.id WHERE e.address = :a",
        a=DANA.email,
    )
    assert dana_org == "Fabrikam"
