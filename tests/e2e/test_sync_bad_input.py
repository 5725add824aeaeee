"""Bad input: bad items are skipped with a counted, logged reason naming the item, and the rest of the
mailbox syncs; a bad configuration (a mailbox that does not exist, an unreachable endpoint, wrong
credentials) is one clear line per problem in status and in the logs, and the other mailboxes sync."""

from __future__ import annotations

import io
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog
from rich.console import Console

from connector.engine import SyncSettings
from connector.errors import AuthenticationFailed
from connector.ews.client import EwsConnection
from connector.ews.reader import EwsMailboxSync
from connector.ews.settings import EwsSettings
from connector.fake.model import ItemSpec, Mailbox
from mapping.store.reports import mailbox_status
from scheduler.status_view import print_status, problem_lines
from tests.e2e.jsonlogs import json_logs
from tests.e2e.syncenv import ALICE, BOB, DANA, ERIN, T0, EnvFactory, HandCompany, SyncEnv, contact, meeting, message

NOBODY = Mailbox("Nobody", "not an address")
BIG = "x" * (5 * 1024 * 1024)


def bad_company() -> HandCompany:
    a = ALICE.email
    invite = message(5, "Invitation: review", DANA, [ALICE])
    return HandCompany(
        items={
            (a, "inbox"): [
                message(1, "Good mail", DANA, [ALICE]),
                message(2, "No address", NOBODY, [NOBODY]),
                message(3, BIG, DANA, [ALICE]),
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
        }
    )


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


# --- bad configuration: a mailbox that does not exist, an unreachable endpoint, wrong credentials --------
def two_mailboxes() -> HandCompany:
    return HandCompany(
        items={
            (ALICE.email, "inbox"): [message(1, "For Alice", DANA, [ALICE])],
            (BOB.email, "inbox"): [message(2, "For Bob", DANA, [BOB])],
        }
    )


def status_of(env: SyncEnv, configured: list[str]) -> dict[str, dict[str, Any]]:
    with env.store.session() as s:
        return {row["mailbox"]: row for row in mailbox_status(s, datetime.now(UTC), configured=configured)}


def printed_status(env: SyncEnv, configured: list[str]) -> str:
    out = io.StringIO()
    print_status(list(status_of(env, configured).values()), Console(file=out, width=200))
    return out.getvalue()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def engine_for(env: SyncEnv, connection: EwsConnection) -> EwsMailboxSync:
    return EwsMailboxSync(
        connection, env.store, env.rules, SyncSettings(retry_base_seconds=0.01), sleep=env.waits.append
    )


def test_a_mailbox_that_does_not_exist_is_one_clear_line_in_status_and_logs_and_the_others_sync(
    make_env: EnvFactory, db_url: str
) -> None:
    env = make_env(two_mailboxes(), url=db_url)
    configured = [ALICE.email, "ghost@contoso.example", BOB.email]
    with json_logs("INFO") as logs:
        logs.take()
        reports = {a: env.sync(a, ["inbox"]) for a in configured}
        lines = logs.take()
    assert reports[ALICE.email].ok and reports[BOB.email].ok and env.subjects() == {"For Alice", "For Bob"}
    problems = [line for line in lines if line["level"] in ("warning", "error")]
    assert len(problems) == 1 and problems[0]["mailbox"] == "ghost@contoso.example"
    assert problems[0]["error"].startswith("ErrorNonExistentMailbox: the mailbox does not exist in Exchange")
    assert "Fix: check the address in mailboxes.addresses" in problems[0]["error"]
    rows = status_of(env, configured)
    assert rows[ALICE.email]["state"] == rows[BOB.email]["state"] == "ok"
    assert rows["ghost@contoso.example"]["state"] == "needs attention"
    assert problem_lines(list(rows.values())) == [f"needs attention: ghost@contoso.example: {problems[0]['error']}"]
    assert problem_lines(list(rows.values()))[0] in printed_status(env, configured)


def test_an_unreachable_endpoint_is_one_clear_line_per_mailbox_and_clears_when_it_is_back(
    make_env: EnvFactory, db_url: str
) -> None:
    env = make_env(two_mailboxes(), url=db_url)
    port = closed_port()
    nowhere = EwsConnection(
        EwsSettings(
            endpoint=f"http://127.0.0.1:{port}/EWS/Exchange.asmx",
            username="svc",
            password="pw",
            auth="basic",
            timeout_seconds=5,
        )
    )
    try:
        with json_logs("INFO") as logs:
            logs.take()
            reports = [engine_for(env, nowhere).sync(a, ["inbox"]) for a in (ALICE.email, BOB.email)]
            lines = logs.take()
    finally:
        nowhere.close()
    expected = (
        f"cannot reach Exchange at 127.0.0.1:{port}: the connection was refused. Fix: check "
        "exchange.endpoint (host and port) and that Exchange or its proxy listens there"
    )
    assert [r.error for r in reports] == [expected, expected]
    assert [r.error_kind for r in reports] == ["TransientError", "TransientError"]
    attention = [line for line in lines if line["event"] == "mailbox needs attention"]
    assert [(line["mailbox"], line["error"]) for line in attention] == [(ALICE.email, expected), (BOB.email, expected)]
    out = printed_status(env, [ALICE.email, BOB.email])
    assert f"needs attention: {ALICE.email}: {expected}" in out and f"needs attention: {BOB.email}: {expected}" in out
    # Exchange reachable again: both sync and the problems are gone from status
    assert all(env.sync(a, ["inbox"]).ok for a in (ALICE.email, BOB.email))
    assert problem_lines(list(status_of(env, [ALICE.email, BOB.email]).values())) == []


def test_wrong_credentials_are_one_clear_line_in_status_without_the_secret(make_env: EnvFactory, db_url: str) -> None:
    env = make_env(two_mailboxes(), url=db_url)
    wrong = EwsConnection(
        EwsSettings(
            endpoint=env.ex.url, username=env.ex.username, password="WrongPassw0rd!", auth="basic", timeout_seconds=5
        )
    )
    try:
        with pytest.raises(AuthenticationFailed) as info:
            engine_for(env, wrong).sync(ALICE.email, ["inbox"])
    finally:
        wrong.close()
    assert "Exchange refused the credentials" in str(info.value) and "Fix: check exchange.username" in str(info.value)
    rows = status_of(env, [ALICE.email, BOB.email])
    assert rows[ALICE.email]["state"] == "needs attention"
    assert rows[ALICE.email]["attention_reason"] == str(info.value)
    assert rows[BOB.email]["state"] == "never synced"
    out = printed_status(env, [ALICE.email, BOB.email])
    assert f"needs attention: {ALICE.email}: Exchange refused the credentials" in out
    assert "WrongPassw0rd!" not in out + env.dump_text()
    # with the right password the same mailbox syncs and the flag clears
    assert env.sync(ALICE.email, ["inbox"]).ok
    assert status_of(env, [ALICE.email])[ALICE.email]["state"] == "ok"
