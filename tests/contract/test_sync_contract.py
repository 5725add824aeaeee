"""The sync contract every backend keeps (run over EWS and over Microsoft Graph, see conftest.py).

First sync, incremental adds/updates/deletes in every folder, paging boundaries, two mailboxes holding
the same e-mail and contact, private items, an expired sync state / delta link, the mass-unlink safety
rail, throttling, dropped connections, an expired token, a mailbox that does not exist, bad items.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import structlog

from connector.engine import MailboxReport
from connector.fake.model import ItemSpec, Mailbox, Recurrence
from tests.contract.contractenv import World, WorldFactory
from tests.e2e.syncenv import ALICE, BOB, DANA, ERIN, T0, HandCompany, contact, meeting, message

FOLDERS = ("contacts", "inbox", "sentitems", "calendar")


def company() -> HandCompany:
    a = ALICE.email
    return HandCompany(
        items={
            (a, "contacts"): [contact(1, "Dana Dunn", DANA.email), contact(2, "Erin Estrada", ERIN.email)],
            (a, "inbox"): [message(1, "Offer", DANA, [ALICE]), message(2, "Question", ERIN, [ALICE])],
            (a, "sentitems"): [message(3, "Re: Offer", ALICE, [DANA])],
            (a, "calendar"): [meeting(1, "Kick-off", T0, ALICE, [DANA])],
            (BOB.email, "inbox"): [message(50, "For Bob", DANA, [BOB])],
        }
    )


def counts(report: MailboxReport) -> dict[str, tuple[int, int, int]]:
    assert report.ok, report.error
    return {f.folder: (f.result.created, f.result.updated, f.result.deleted) for f in report.folders}


def test_first_sync_then_adds_updates_and_deletes_in_every_folder(make_world: WorldFactory) -> None:
    w = make_world(company())
    assert counts(w.sync()) == {
        "contacts": (2, 0, 0),
        "inbox": (2, 0, 0),
        "sentitems": (1, 0, 0),
        "calendar": (1, 0, 0),
    }
    assert w.count("people") == 2
    assert w.subjects() == {"Offer", "Question", "Re: Offer", "Kick-off"}
    assert counts(w.sync()) == {f: (0, 0, 0) for f in FOLDERS}

    mb = w.mb()
    ids = {folder: [i for i, _ in mb.items(folder)] for folder in FOLDERS}
    mb.create("contacts", contact(3, "Hugo Hall", "hugo@litware.example"))
    mb.update(ids["contacts"][0], DisplayName="Dana Dunn-Smith", JobTitle="CFO")
    mb.delete(ids["contacts"][1])
    mb.create("inbox", message(4, "New order", DANA, [ALICE]))
    mb.update(ids["inbox"][0], Subject="Offer (edited)")
    mb.delete(ids["inbox"][1])
    mb.create("calendar", meeting(2, "Follow-up", T0 + timedelta(days=2), ALICE, [ERIN]))
    mb.update(
        ids["calendar"][0], Subject="Kick-off (moved)", Start=T0 + timedelta(hours=1), End=T0 + timedelta(hours=2)
    )
    step = w.sync()
    assert counts(step) == {"contacts": (1, 1, 1), "inbox": (1, 1, 1), "sentitems": (0, 0, 0), "calendar": (1, 1, 0)}
    assert not any(f.full_sync for f in step.folders)
    assert w.count("people") == 3 and w.live_links("contacts") == 2
    assert w.rows("SELECT job_title FROM people WHERE display_name = 'Dana Dunn-Smith'") == [("CFO",)]
    assert w.subjects() == {"Offer (edited)", "Question", "Re: Offer", "New order", "Kick-off (moved)", "Follow-up"}
    assert w.live_links("inbox") == 2
    moved = w.rows("SELECT occurred_at FROM interactions WHERE subject = 'Kick-off (moved)'")[0][0]
    assert str(moved).startswith((T0 + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"))


def test_paging_at_the_boundaries_loses_and_duplicates_nothing(make_world: WorldFactory) -> None:
    c = HandCompany(items={(ALICE.email, "inbox"): [message(i, f"Mail {i}", DANA, [ALICE]) for i in range(7)]})
    w = make_world(c)
    report = w.sync(folders=["inbox"], page_size=3)
    assert counts(report) == {"inbox": (7, 0, 0)}
    assert report.folders[0].pages == 3  # 3 + 3 + 1
    for n in range(7, 10):
        w.mb().create("inbox", message(n, f"Mail {n}", DANA, [ALICE]))
    assert counts(w.sync(folders=["inbox"], page_size=3)) == {"inbox": (3, 0, 0)}
    assert w.count("interactions") == 10 and w.live_links("inbox") == 10


def test_same_email_and_contact_in_two_mailboxes_are_one_interaction_and_one_person(
    make_world: WorldFactory, db_url: str
) -> None:
    shared = message(9, "Offer to both", DANA, [ALICE, BOB])
    c = HandCompany(
        items={
            (ALICE.email, "contacts"): [contact(1, "Dana Dunn", DANA.email)],
            (BOB.email, "contacts"): [contact(1, "Dana Dunn", DANA.email, JobTitle="Buyer")],
            (ALICE.email, "inbox"): [shared],
            (BOB.email, "inbox"): [shared],
        }
    )
    w = make_world(c, url=db_url)
    assert w.sync(ALICE.email).ok and w.sync(BOB.email).ok
    assert w.count("interactions") == 1 and w.count("interaction_viewers") == 2
    assert w.count("people") == 1 and w.count("email_addresses", "address = :a", a=DANA.email) == 1


def test_private_and_confidential_items_never_reach_the_store(make_world: WorldFactory) -> None:
    c = HandCompany(
        items={
            (ALICE.email, "inbox"): [
                message(1, "Salary talk", DANA, [ALICE], Sensitivity="Private"),
                message(2, "Board secrets", DANA, [ALICE], Sensitivity="Confidential"),
                message(3, "Normal offer", DANA, [ALICE]),
            ],
            (ALICE.email, "calendar"): [
                meeting(1, "Doctor", T0, ALICE, [DANA], Sensitivity="Private"),
                meeting(2, "Demo", T0 + timedelta(days=1), ALICE, [DANA]),
            ],
        }
    )
    w = make_world(c)
    assert w.sync(folders=["inbox", "calendar"]).ok
    assert w.subjects() == {"Normal offer", "Demo"}


def test_recurring_meeting_with_an_exception_and_a_deleted_occurrence(make_world: WorldFactory) -> None:
    start = T0 - timedelta(days=7)
    series = meeting(
        5,
        "Weekly sync",
        start,
        ALICE,
        [DANA],
        CalendarItemType="RecurringMaster",
        Recurrence=Recurrence("Weekly", 1, start.date(), days_of_week=(start.strftime("%A"),), occurrences=4),
    )
    moved = ItemSpec(
        "CalendarItem",
        {
            **series.fields,
            "Subject": "Weekly sync (moved)",
            "Start": start + timedelta(days=7, hours=2),
            "End": start + timedelta(days=7, hours=3),
            "CalendarItemType": "Exception",
        },
        original_start=start + timedelta(days=7),
    )
    series.exceptions = (moved,)
    series.deleted_occurrences = (start + timedelta(days=14),)
    w = make_world(HandCompany(items={(ALICE.email, "calendar"): [series]}))
    assert w.sync(folders=["calendar"]).ok
    rows = w.rows("SELECT subject, occurred_at FROM interactions WHERE is_cancelled = :f ORDER BY occurred_at", f=False)
    assert [r[0] for r in rows] == ["Weekly sync", "Weekly sync (moved)", "Weekly sync"]
    assert str(rows[1][1]).startswith((start + timedelta(days=7, hours=2)).strftime("%Y-%m-%d %H:%M"))
    assert len({r[0] for r in w.rows("SELECT ical_uid FROM interactions")}) == 1


def weekly(n: int) -> ItemSpec:
    """A weekly series of ``n`` meetings from T0 (20 days ago), its Nth occurrence at T0 + N-1 weeks."""
    return meeting(
        6,
        "Weekly review",
        T0,
        ALICE,
        [DANA],
        CalendarItemType="RecurringMaster",
        Recurrence=Recurrence("Weekly", 1, T0.date(), days_of_week=(T0.strftime("%A"),), occurrences=n),
    )


def delete_occurrences(w: World, *starts: datetime) -> None:
    """Delete occurrences of the mailbox's one series in Outlook: its master lists them as deleted."""
    mb = w.mb()
    folder, ref = mb.resolve(next(i for i, _ in mb.items("calendar")))
    with mb.lock:
        spec = folder.get(ref.index)[0]
        folder.replace(ref.index, dataclasses.replace(spec, deleted_occurrences=(*spec.deleted_occurrences, *starts)))


def cancelled(w: World) -> list[bool]:
    """Whether each stored occurrence is cancelled, in the series' order."""
    return [bool(c) for (c,) in w.rows("SELECT is_cancelled FROM interactions ORDER BY occurrence_start")]


def test_an_occurrence_deleted_after_the_first_sync_is_stored_as_cancelled(make_world: WorldFactory) -> None:
    w = make_world(HandCompany(items={(ALICE.email, "calendar"): [weekly(6)]}))
    assert w.sync(folders=["calendar"]).ok
    assert cancelled(w) == [False] * 6
    delete_occurrences(w, T0 + timedelta(days=14))
    assert w.sync(folders=["calendar"], page_size=2).ok  # the deletion on any page of the series' change
    assert cancelled(w) == [False, False, True, False, False, False]  # it did not happen; the row stays
    assert w.sync(folders=["calendar"]).ok and cancelled(w) == [False, False, True, False, False, False]


def test_a_deleted_series_keeps_its_occurrences_as_they_were(make_world: WorldFactory) -> None:
    w = make_world(HandCompany(items={(ALICE.email, "calendar"): [weekly(6)]}))
    assert w.sync(folders=["calendar"]).ok
    delete_occurrences(w, T0 + timedelta(days=14))
    assert w.sync(folders=["calendar"]).ok
    w.mb().delete(next(i for i, _ in w.mb().items("calendar")))
    report = w.sync(folders=["calendar"], page_size=2)  # over Graph: five removals over three pages
    assert report.ok and report.folders[0].result.deleted >= 1
    assert w.live_links("calendar") == 0
    # corporate memory: the meetings stay as they were, none of them cancelled by the series' deletion
    assert cancelled(w) == [False, False, True, False, False, False]


def test_an_occurrence_deleted_outside_the_window_is_left_as_it_was(make_world: WorldFactory) -> None:
    w = make_world(HandCompany(items={(ALICE.email, "calendar"): [weekly(6)]}))
    assert w.sync(folders=["calendar"], calendar_days_back=30).ok
    assert cancelled(w) == [False] * 6
    # The window now starts 10 days back: the first two occurrences (20 and 13 days ago) have left it,
    # and what happens to them is no longer the sync's business; the third is 6 days back, inside it.
    delete_occurrences(w, T0, T0 + timedelta(days=14))
    assert w.sync(folders=["calendar"], calendar_days_back=10).ok
    assert cancelled(w) == [False, False, True, False, False, False]


def test_an_expired_sync_state_means_a_full_resync_that_upserts(make_world: WorldFactory, db_url: str) -> None:
    w = make_world(company(), url=db_url)
    assert w.sync().ok
    people, interactions = w.count("people"), w.count("interactions")
    mb = w.mb()
    mb.delete(next(i for i, _ in mb.items("contacts")))
    mb.create("contacts", contact(9, "Newcomer Test", "new@litware.example"))
    mb.invalidate_sync_states("contacts")  # the server forgot the state (EWS) / the delta link expired (Graph)
    report = w.sync(folders=["contacts", "inbox"])
    by = {f.folder: f for f in report.folders}
    assert report.ok, report.error
    assert by["contacts"].full_sync and by["contacts"].unlinked == 1
    assert by["contacts"].result.created == 1 and by["contacts"].result.updated == 1
    assert not by["inbox"].full_sync
    assert w.count("people") == people + 1 and w.count("interactions") == interactions
    assert not any(f.full_sync for f in w.sync(folders=["contacts"]).folders)


def test_a_folder_that_suddenly_looks_empty_unlinks_nothing_and_needs_attention(make_world: WorldFactory) -> None:
    c = HandCompany(
        items={(ALICE.email, "contacts"): [contact(i, f"P{i} Test", f"p{i}@litware.example") for i in range(25)]}
    )
    w = make_world(c)
    assert w.sync(folders=["contacts"]).ok
    for item_id, _ in list(w.mb().items("contacts")):
        w.mb().delete(item_id)
    w.mb().invalidate_sync_states("contacts")
    report = w.sync(folders=["contacts"])
    assert not report.ok and "nothing was unlinked" in (report.error or "")
    assert w.live_links("contacts") == 25
    accepted = w.sync(folders=["contacts"], full=True)
    assert accepted.ok and accepted.folders[0].unlinked == 25


def test_a_small_folder_that_suddenly_looks_empty_is_protected_too(make_world: WorldFactory) -> None:
    # No size floor: three contacts vanishing on a refused sync state is the same danger as 25.
    c = HandCompany(
        items={(ALICE.email, "contacts"): [contact(i, f"P{i} Test", f"p{i}@litware.example") for i in range(3)]}
    )
    w = make_world(c)
    assert w.sync(folders=["contacts"]).ok
    for item_id, _ in list(w.mb().items("contacts")):
        w.mb().delete(item_id)
    w.mb().invalidate_sync_states("contacts")
    report = w.sync(folders=["contacts"])
    assert not report.ok and "nothing was unlinked" in (report.error or "")
    assert w.live_links("contacts") == 3
    accepted = w.sync(folders=["contacts"], full=True)
    assert accepted.ok and accepted.folders[0].unlinked == 3


def test_throttling_is_waited_out_as_the_server_says(make_world: WorldFactory) -> None:
    w = make_world(company())
    w.fault("server_busy", back_off_ms=2000, mailbox=ALICE.email, times=2)
    report = w.sync(folders=["inbox"])
    assert counts(report) == {"inbox": (2, 0, 0)}
    assert w.waits == [2.0, 2.0]


def test_dropped_connections_and_503_are_retried(make_world: WorldFactory) -> None:
    w = make_world(company())
    w.fault("drop", mailbox=ALICE.email)
    w.fault("http_503", mailbox=ALICE.email)
    report = w.sync(folders=["inbox"])
    assert counts(report) == {"inbox": (2, 0, 0)}
    assert len(w.waits) == 2


def test_an_expired_token_is_renewed_and_the_sync_goes_on(make_world: WorldFactory) -> None:
    w = make_world(company())
    engine = w.engine()
    assert engine.sync(ALICE.email, ["inbox"]).ok
    w.idp.expire()  # every token issued so far is refused from now on
    w.mb().create("inbox", message(7, "After expiry", DANA, [ALICE]))
    report = engine.sync(ALICE.email, ["inbox"])
    assert counts(report) == {"inbox": (1, 0, 0)}
    assert w.idp.token_requests == 2


def test_a_mailbox_that_does_not_exist_needs_attention_and_the_others_sync(make_world: WorldFactory) -> None:
    w = make_world(company())
    engine = w.engine()
    ghost = engine.sync("ghost@contoso.example", ["inbox"])
    assert not ghost.ok and "exist" in (ghost.error or "").lower()
    assert w.rows("SELECT needs_attention FROM staff_mailboxes WHERE address = 'ghost@contoso.example'")[0][0]
    assert engine.sync(BOB.email, ["inbox"]).ok
    assert w.subjects() == {"For Bob"}


def test_bad_items_are_skipped_with_a_logged_reason_naming_the_item_and_the_rest_syncs(
    make_world: WorldFactory,
) -> None:
    nobody, big = Mailbox("Nobody", "not an address"), "x" * (5 * 1024 * 1024)
    invite = message(5, "Invitation: review", DANA, [ALICE])
    c = HandCompany(
        items={
            (ALICE.email, "inbox"): [
                message(1, "Good mail", DANA, [ALICE]),
                message(2, "No address", nobody, [nobody]),
                message(3, big, DANA, [ALICE]),
                message(
                    4,
                    "Absurd dates",
                    DANA,
                    [ALICE],
                    DateTimeSent=datetime(1601, 1, 2, tzinfo=UTC),
                    DateTimeReceived=datetime(1601, 1, 2, tzinfo=UTC),
                ),
                ItemSpec("MeetingRequest", invite.fields),
                message(6, "Good mail too", ERIN, [ALICE]),
            ],
            (ALICE.email, "contacts"): [
                contact(1, "Dana Dunn", DANA.email),
                ItemSpec("Contact", {"JobTitle": "nobody"}),
            ],
            (ALICE.email, "calendar"): [
                meeting(1, "Backwards", T0, ALICE, [DANA], End=T0 - timedelta(hours=1)),
                meeting(2, "Good meeting", T0, ALICE, [DANA]),
            ],
        }
    )
    w = make_world(c)
    with structlog.testing.capture_logs() as logs:
        report = w.sync(folders=["inbox", "contacts", "calendar"])
    assert report.ok, report.error
    by = {f.folder: f.result for f in report.folders}
    assert by["inbox"].created == 2 and by["contacts"].created == 1 and by["calendar"].created == 1
    reasons = " | ".join(r for result in by.values() for r in result.skipped.elements())
    assert "no address" in reasons and "subject too long: 5242880 chars" in reasons
    assert "out of range" in reasons and "ends before it starts" in reasons
    assert sum(len(list(result.skipped.elements())) for result in by.values()) == 6
    ids = {i for folder in ("inbox", "contacts", "calendar") for i, _ in w.mb().items(folder)}
    skipped_logs = [e for e in logs if e["event"] == "item skipped"]
    assert len(skipped_logs) == 6
    if w.name == "ews":  # Graph ids are its own; the fake's EWS ids name the same items
        assert all(e["item_id"] in ids for e in skipped_logs)
    assert all(e["item_id"] for e in skipped_logs)
    assert w.subjects() == {"Good mail", "Good mail too", "Good meeting"}
    again = w.sync(folders=["inbox", "contacts", "calendar"])
    assert again.ok and all(f.result.items == 0 for f in again.folders)
