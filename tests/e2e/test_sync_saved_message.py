"""A message a client saves into the Inbox (CreateItem, SaveOnly) is synced, dated as Exchange stamps it.

CreateItem: https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createitem
DateTimeReceived: https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/datetimereceived
"""

from __future__ import annotations

from datetime import datetime

from exchangelib import BASIC, IMPERSONATION, UTC, Account, Configuration, Credentials, FailFast, Message

from tests.e2e.syncenv import ALICE, DANA, EnvFactory, HandCompany


def test_a_message_saved_into_the_inbox_by_a_client_is_synced(make_env: EnvFactory, db_url: str) -> None:
    env = make_env(HandCompany(items={}), url=db_url)
    assert env.sync().ok
    ex = env.ex
    config = Configuration(
        service_endpoint=ex.url,
        credentials=Credentials(ex.username, ex.password),
        auth_type=BASIC,
        retry_policy=FailFast(),
    )
    alice = Account(ALICE.email, config=config, access_type=IMPERSONATION, default_timezone=UTC)
    saved = Message(
        account=alice, folder=alice.inbox, subject="Saved by a client", to_recipients=[DANA.email], author=DANA.email
    )
    saved.save()
    saved.refresh()

    report = env.sync()
    assert report.ok, report.error
    assert "Saved by a client" in env.subjects()
    assert all(not f.result.skipped for f in report.folders)
    occurred = datetime.fromisoformat(str(env.scalar("SELECT occurred_at FROM interactions")))
    received = saved.datetime_received.astimezone(UTC)
    assert (occurred.year, occurred.month, occurred.day, occurred.hour, occurred.minute, occurred.second) == (
        received.year,
        received.month,
        received.day,
        received.hour,
        received.minute,
        received.second,
    )
