"""First sync, then what staff change in Outlook between syncs: the next sync applies exactly that."""

from __future__ import annotations

from datetime import timedelta

from connector.engine import MailboxReport
from mapping.changes import SyncRules
from tests.e2e.syncenv import ALICE, BOB, DANA, DOMAIN, ERIN, T0, EnvFactory, HandCompany, contact, meeting, message


def company() -> HandCompany:
    a = ALICE.email
    return HandCompany(
        items={
            (a, "contacts"): [contact(1, "Dana Dunn", DANA.email), contact(2, "Erin Estrada", ERIN.email)],
            (a, "inbox"): [message(1, "Offer", DANA, [ALICE]), message(2, "Question", ERIN, [ALICE])],
            (a, "sentitems"): [message(3, "Re: Offer", ALICE, [DANA])],
            (a, "calendar"): [meeting(1, "Kick-off", T0, ALICE, [DANA])],
        }
    )


def folder_counts(report: MailboxReport) -> dict[str, tuple[int, int, int]]:
    return {f.folder: (f.result.created, f.result.updated, f.result.deleted) for f in report.folders}


def test_first_sync_then_adds_updates_and_deletes_in_every_folder_are_applied_exactly(
    make_env: EnvFactory, db_url: str
) -> None:
    env = make_env(company(), url=db_url)
    first = env.sync()
    assert first.ok, first.error
    assert folder_counts(first) == {
        "contacts": (2, 0, 0),
        "inbox": (2, 0, 0),
        "sentitems": (1, 0, 0),
        "calendar": (1, 0, 0),
    }
    assert env.count("people") == 2
    assert env.subjects() == {"Offer", "Question", "Re: Offer", "Kick-off"}

    # nothing changed: an incremental sync does nothing
    again = env.sync()
    assert folder_counts(again) == {f: (0, 0, 0) for f in ("contacts", "inbox", "sentitems", "calendar")}

    mb = env.mb()
    ids = {folder: [i for i, _ in mb.items(folder)] for folder in ("contacts", "inbox", "sentitems", "calendar")}
    # contacts: one added, one renamed, one deleted
    mb.create("contacts", contact(3, "Hugo Hall", "hugo@litware.example"))
    mb.update(ids["contacts"][0], DisplayName="Dana Dunn-Smith", JobTitle="CFO")
    mb.delete(ids["contacts"][1])
    # inbox / sent items: one added, one edited, one deleted each
    mb.create("inbox", message(4, "New order", DANA, [ALICE]))
    mb.update(ids["inbox"][0], Subject="Offer (edited)")
    mb.delete(ids["inbox"][1])
    mb.create("sentitems", message(5, "Invoice", ALICE, [ERIN]))
    mb.update(ids["sentitems"][0], Subject="Re: Offer v2")
    # calendar: one added, one moved by an hour
    mb.create("calendar", meeting(2, "Follow-up", T0 + timedelta(days=2), ALICE, [ERIN]))
    mb.update(
        ids["calendar"][0], Subject="Kick-off (moved)", Start=T0 + timedelta(hours=1), End=T0 + timedelta(hours=2)
    )

    step = env.sync()
    assert step.ok, step.error
    assert folder_counts(step) == {
        "contacts": (1, 1, 1),
        "inbox": (1, 1, 1),
        "sentitems": (1, 1, 0),
        "calendar": (1, 1, 0),
    }
    assert all(not f.full_sync for f in step.folders)
    # contacts: the deleted one is unlinked, its person stays; the edit reached the person
    assert env.count("people") == 3
    assert env.scalar("SELECT job_title FROM people WHERE display_name = 'Dana Dunn-Smith'") == "CFO"
    assert env.live_links("contacts") == 2
    assert env.count("people", "display_name = 'Erin Estrada'") == 1
    # messages: the deleted one keeps its interaction (corporate memory) but loses alice as viewer
    assert env.subjects() == {
        "Offer (edited)",
        "Question",
        "Re: Offer v2",
        "New order",
        "Invoice",
        "Kick-off (moved)",
        "Follow-up",
    }
    assert (
        env.count("interaction_viewers v JOIN interactions i ON i.id = v.interaction_id", "i.subject = 'Question'") == 0
    )
    assert env.live_links("inbox") == 2
    moved = env.scalar("SELECT occurred_at FROM interactions WHERE subject = 'Kick-off (moved)'")
    assert str(moved).startswith((T0 + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"))
    assert env.count("interactions") == 7


def test_deleted_message_is_forgotten_when_config_says_interactions_do_not_outlive_outlook(
    make_env: EnvFactory,
) -> None:
    rules = SyncRules(internal_domains=frozenset({DOMAIN}), keep_interactions_on_delete=False)
    env = make_env(company(), rules=rules)
    assert env.sync().ok
    inbox = [i for i, _ in env.mb().items("inbox")]
    env.mb().delete(inbox[1])
    report = env.sync(folders=["inbox"])
    assert report.folders[0].result.deleted == 1
    assert "Question" not in env.subjects()
    assert (
        env.count("interaction_participants p JOIN interactions i ON i.id = p.interaction_id", "i.subject = 'Question'")
        == 0
    )
    assert "Offer" in env.subjects()


def test_deleted_message_still_held_by_another_mailbox_is_kept_even_when_interactions_do_not_outlive_outlook(
    make_env: EnvFactory,
) -> None:
    rules = SyncRules(internal_domains=frozenset({DOMAIN}), keep_interactions_on_delete=False)
    shared = message(7, "To both", DANA, [ALICE, BOB])
    c = HandCompany(items={(ALICE.email, "inbox"): [shared], (BOB.email, "inbox"): [shared]})
    env = make_env(c, rules=rules)
    assert env.sync(ALICE.email, ["inbox"]).ok and env.sync(BOB.email, ["inbox"]).ok
    env.mb().delete(next(i for i, _ in env.mb().items("inbox")))
    assert env.sync(ALICE.email, ["inbox"]).ok
    assert env.subjects() == {"To both"}
    assert env.count("interaction_viewers") == 1


def test_same_email_and_same_contact_in_two_mailboxes_are_one_interaction_and_one_person(
    make_env: EnvFactory, db_url: str
) -> None:
    shared_mail = message(9, "Offer to both", DANA, [ALICE, BOB])
    c = HandCompany(
        items={
            (ALICE.email, "contacts"): [contact(1, "Dana Dunn", DANA.email)],
            (BOB.email, "contacts"): [contact(1, "Dana Dunn", DANA.email, JobTitle="Buyer")],
            (ALICE.email, "inbox"): [shared_mail],
            (BOB.email, "inbox"): [shared_mail],
        }
    )
    env = make_env(c, url=db_url)
    assert env.sync(ALICE.email).ok
    assert env.sync(BOB.email).ok
    assert env.count("interactions") == 1
    assert env.count("interaction_viewers") == 2
    assert env.count("people") == 1
    assert env.count("item_links", "folder = 'contacts' AND deleted_at IS NULL") == 2
    assert env.count("email_addresses", "address = :a", a=DANA.email) == 1
    assert env.scalar("SELECT job_title FROM people") == "Buyer"
    # each copy keeps its own link, on the same row
    assert env.count("item_links", "folder = 'inbox'") == 2
    assert len({r[0] for r in env.rows("SELECT entity_id FROM item_links WHERE folder = 'inbox'")}) == 1
    # one mailbox deletes its copy: the other still sees it
    env.mb(BOB.email).delete(next(i for i, _ in env.mb(BOB.email).items("inbox")))
    assert env.sync(BOB.email, ["inbox"]).ok
    assert env.count("interactions") == 1 and env.count("interaction_viewers") == 1
