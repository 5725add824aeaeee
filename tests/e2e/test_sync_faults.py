"""Invalid sync states, the mass-unlink safety rail, throttling, dropped connections, broken mailboxes."""

from __future__ import annotations

from tests.e2e.syncenv import ALICE, BOB, DANA, EnvFactory, HandCompany, contact, message


def company(contacts: int = 5, inbox: int = 4) -> HandCompany:
    a = ALICE.email
    return HandCompany(
        items={
            (a, "contacts"): [contact(i, f"Person{i} Test", f"p{i}@litware.example") for i in range(contacts)],
            (a, "inbox"): [message(i, f"Mail {i}", DANA, [ALICE]) for i in range(inbox)],
            (BOB.email, "inbox"): [message(50, "For Bob", DANA, [BOB])],
        }
    )


def test_invalid_sync_state_means_a_full_resync_that_upserts_and_unlinks_what_was_deleted_meanwhile(
    make_env: EnvFactory, db_url: str
) -> None:
    env = make_env(company(), url=db_url)
    assert env.sync().ok
    people, interactions = env.count("people"), env.count("interactions")
    mb = env.mb()
    contacts = [i for i, _ in mb.items("contacts")]
    mb.delete(contacts[0])
    mb.create("contacts", contact(9, "Newcomer Test", "new@litware.example"))
    mb.invalidate_sync_states("contacts")  # e.g. the mailbox moved to another database
    env.ex.faults.add("invalid_sync_state", operation="SyncFolderItems", mailbox=ALICE.email)  # hits the inbox
    report = env.sync(folders=["inbox", "contacts"])
    assert report.ok, report.error
    by = {f.folder: f for f in report.folders}
    assert by["contacts"].full_sync and by["inbox"].full_sync
    assert by["contacts"].unlinked == 1 and by["inbox"].unlinked == 0
    assert by["contacts"].result.created == 1 and by["contacts"].result.updated == 4
    assert by["inbox"].result.created == 0 and by["inbox"].result.updated == 4
    assert env.count("people") == people + 1  # no duplicate; the deleted contact's person stays
    assert env.count("interactions") == interactions
    assert env.live_links("contacts") == 5 and env.live_links("inbox") == 4
    assert env.count("item_links") == 4 + 5 + 1  # one row per item ever seen, none twice
    assert env.scalar("SELECT full_syncs FROM sync_states WHERE folder = 'contacts'") == 1
    # and the next sync is incremental again
    assert not any(f.full_sync for f in env.sync(folders=["contacts", "inbox"]).folders)


def test_a_folder_that_suddenly_looks_empty_unlinks_nothing_and_needs_attention(
    make_env: EnvFactory, db_url: str
) -> None:
    env = make_env(company(contacts=25), url=db_url)
    assert env.sync(folders=["contacts"]).ok
    mb = env.mb()
    for item_id, _ in list(mb.items("contacts")):
        mb.delete(item_id)
    mb.invalidate_sync_states("contacts")
    report = env.sync(folders=["contacts"])
    assert not report.ok and "nothing was unlinked" in (report.error or "")
    assert env.live_links("contacts") == 25
    assert env.count("people") == 25
    flagged, reason = env.mailbox_row(ALICE.email)
    assert flagged and "contacts" in reason
    # the next run does not quietly clear the flag while the folder still looks empty
    again = env.sync(folders=["contacts"])
    assert not again.ok
    assert env.mailbox_row(ALICE.email)[0]
    assert env.live_links("contacts") == 25
    # the admin checked and the deletion is real: an explicit full resync accepts it
    accepted = env.sync(folders=["contacts"], full=True)
    assert accepted.ok, accepted.error
    assert accepted.folders[0].unlinked == 25 and env.live_links("contacts") == 0
    assert env.count("people") == 25  # people stay: a deleted contact only unlinks its source
    assert not env.mailbox_row(ALICE.email)[0]


def test_a_flagged_folder_recovers_by_itself_once_it_looks_sane_again(make_env: EnvFactory) -> None:
    env = make_env(company(contacts=25))
    assert env.sync(folders=["contacts"]).ok
    mb = env.mb()
    saved = list(mb.items("contacts"))
    for item_id, _ in saved:
        mb.delete(item_id)
    mb.invalidate_sync_states("contacts")
    assert not env.sync(folders=["contacts"]).ok
    # the items come back (re-imported: new ids, same people): half the folder's links are now current
    for _, spec in saved:
        mb.create("contacts", spec)
    report = env.sync(folders=["contacts"])
    assert report.ok, report.error
    assert report.folders[0].full_sync and report.folders[0].unlinked == 25
    assert env.count("people") == 25 and env.live_links("contacts") == 25
    assert not env.mailbox_row(ALICE.email)[0]


def test_server_busy_back_off_is_honoured_and_retried(make_env: EnvFactory) -> None:
    env = make_env(company())
    env.ex.faults.add("server_busy", back_off_ms=1500, operation="SyncFolderItems", mailbox=ALICE.email, times=2)
    report = env.sync(folders=["inbox"])
    assert report.ok, report.error
    folder = report.folders[0]
    assert env.waits == [1.5, 1.5]
    assert folder.retries == 2 and folder.throttled_seconds == 3.0
    assert folder.result.created == 4
    assert env.ex.stats.faults["server_busy"] == 2


def test_dropped_connection_and_http_503_are_retried(make_env: EnvFactory) -> None:
    env = make_env(company())
    env.ex.faults.add("drop", operation="SyncFolderItems", mailbox=ALICE.email)
    env.ex.faults.add("http_503", operation="SyncFolderItems", mailbox=ALICE.email)
    report = env.sync(folders=["inbox"])
    assert report.ok, report.error
    assert report.folders[0].retries == 2 and len(env.waits) == 2
    assert report.folders[0].result.created == 4
    assert env.ex.stats.faults["drop"] == 1 and env.ex.stats.faults["http_503"] == 1


def test_a_persistently_failing_mailbox_needs_attention_and_the_others_still_sync(make_env: EnvFactory) -> None:
    env = make_env(company())
    env.ex.faults.add("drop", mailbox=ALICE.email, times=None)
    engine = env.engine(max_attempts=3)
    broken = engine.sync(ALICE.email, ["inbox"])
    fine = engine.sync(BOB.email, ["inbox"])
    assert not broken.ok and fine.ok
    assert len(env.waits) == 2  # attempts - 1 waits, then it gives up
    assert env.mailbox_row(ALICE.email)[0] and not env.mailbox_row(BOB.email)[0]
    assert env.subjects() == {"For Bob"}
    # once the server is back, the mailbox syncs and the flag clears
    env.ex.faults.clear()
    assert engine.sync(ALICE.email, ["inbox"]).ok
    assert not env.mailbox_row(ALICE.email)[0]


def test_an_unknown_mailbox_needs_attention(make_env: EnvFactory) -> None:
    env = make_env(company())
    report = env.sync("ghost@contoso.example", ["inbox"])
    assert not report.ok and "ErrorNonExistentMailbox" in (report.error or "")
    assert env.mailbox_row("ghost@contoso.example")[0]
    assert env.sync(BOB.email, ["inbox"]).ok
