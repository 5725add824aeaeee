"""Bad items are skipped with a counted, logged reason naming the item, and the rest of the mailbox syncs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from syncenv import ALICE, DANA, ERIN, T0, EnvFactory, HandCompany, contact, meeting, message

from connector.fake.model import ItemSpec, Mailbox

NOBODY = Mailbox("Nobody", "not an address")
BIG = "x" * (5 * 1024 * 1024)


def bad_company() -> HandCompany:
    a = ALICE.email
    invite = message(5, "Invitation: review", DANA, [ALICE])
    return HandCompany(items={
        (a, "inbox"): [
            message(1, "Good mail", DANA, [ALICE]),
            message(2, "No address", NOBODY, [NOBODY]),
            message(3, BIG, DANA, [ALICE]),
            message(4, "Absurd dates", DANA, [ALICE], DateTimeSent=datetime(1601, 1, 2, tzinfo=UTC),
                    DateTimeReceived=datetime(1601, 1, 2, tzinfo=UTC)),
            ItemSpec("MeetingRequest", invite.fields),
            message(6, "Good mail too", ERIN, [ALICE]),
        ],
        (a, "contacts"): [
            contact(1, "Dana Dunn", DANA.email),
            ItemSpec("Contact", {"JobTitle": "nobody at all"}),
            ItemSpec("DistributionList", {"Subject": "All customers", "DisplayName": "All customers"}),
            contact(2, "Erin Estrada", ERIN.email),
        ],
        (a, "calendar"): [
            meeting(1, "Backwards", T0, ALICE, [DANA], End=T0 - timedelta(hours=1)),
            meeting(2, "Good meeting", T0, ALICE, [DANA]),
        ],
    })


def test_bad_items_are_skipped_with_a_counted_logged_reason_and_the_rest_syncs(make_env: EnvFactory) -> None:
    env = make_env(bad_company())
    with structlog.testing.capture_logs() as logs:
        report = env.sync()
    assert report.ok, report.error
    by = {f.folder: f.result for f in report.folders}
    assert by["inbox"].created == 2 and by["contacts"].created == 2 and by["calendar"].created == 1
    reasons = {folder: sorted(result.skipped.elements()) for folder, result in by.items()}
    assert len(reasons["inbox"]) == 4 and len(reasons["contacts"]) == 2 and len(reasons["calendar"]) == 1
    inbox = " | ".join(reasons["inbox"])
    assert "no address" in inbox and "subject too long: 5242880 chars" in inbox
    assert "out of range" in inbox and "MeetingRequest" in inbox
    assert any("DistributionList" in r for r in reasons["contacts"])
    assert any("no address" in r for r in reasons["contacts"])
    assert any("ends before it starts" in r for r in reasons["calendar"])
    # every skip is logged with the id of the item it concerns
    skipped_logs = [e for e in logs if e["event"] == "item skipped"]
    assert len(skipped_logs) == 7
    ids = {i for folder in ("inbox", "contacts", "calendar") for i, _ in env.mb().items(folder)}
    assert all(e["item_id"] in ids for e in skipped_logs)
    assert env.subjects() == {"Good mail", "Good mail too", "Good meeting"}
    assert env.count("people") == 2
    assert BIG[:100] not in env.dump_text()
    # skipped items do not come back on the next sync, and do not block it
    again = env.sync()
    assert again.ok and all(f.result.items == 0 for f in again.folders)


def test_a_bad_item_fixed_in_outlook_is_picked_up(make_env: EnvFactory) -> None:
    env = make_env(bad_company())
    assert env.sync(folders=["calendar"]).ok
    backwards = next(i for i, s in env.mb().items("calendar") if s.fields["Subject"] == "Backwards")
    env.mb().update(backwards, End=T0 + timedelta(hours=1))
    report = env.sync(folders=["calendar"])
    assert report.folders[0].result.created == 1
    assert "Backwards" in env.subjects()
