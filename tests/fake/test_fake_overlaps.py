"""The fake records two clients syncing one mailbox at the same time (the daemons' no-overlap witness)."""

from __future__ import annotations

import threading

import requests

from connector.fake.ews.server import FakeExchange
from connector.fake.overlaps import OverlapRecorder

from .company import ALICE, BOB
from .rawsoap import envelope, post


def _sync_inbox(mailbox: str) -> bytes:
    return envelope(
        "<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>"
        f'<m:SyncFolderId><t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>{mailbox}'
        "</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:SyncFolderId>"
        "<m:MaxChangesReturned>5</m:MaxChangesReturned></m:SyncFolderItems>",
        mailbox,
    )


def _at_once(fake: FakeExchange, calls: list[tuple[str, str]]) -> list[int]:
    """Send one SyncFolderItems per (client, mailbox), all at the same moment."""
    barrier = threading.Barrier(len(calls))
    codes: list[int] = []

    def send(client: str, mailbox: str) -> None:
        barrier.wait()
        codes.append(post(fake, _sync_inbox(mailbox), headers={"User-Agent": client}).status_code)

    threads = [threading.Thread(target=send, args=call) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


def test_two_clients_syncing_one_mailbox_at_once_are_recorded_as_an_overlap(fake: FakeExchange) -> None:
    fake.faults.add("slow", operation="SyncFolderItems", delay_ms=300, times=None)
    assert _at_once(fake, [("relsync (a:1)", ALICE.email), ("relsync (b:2)", ALICE.email)]) == [200, 200]
    overlaps = requests.get(f"{fake.base_url}/_fake/overlaps", timeout=5).json()
    assert len(overlaps["overlaps"]) == 1
    record = overlaps["overlaps"][0]
    assert record["mailbox"] == ALICE.email.lower() and record["operation"] == "SyncFolderItems"
    assert {record["client"], *record["others"]} == {"relsync (a:1)", "relsync (b:2)"}
    assert overlaps["clients"] == {"relsync (a:1)": {ALICE.email.lower(): 1}, "relsync (b:2)": {ALICE.email.lower(): 1}}


def test_one_client_reading_ahead_or_two_clients_on_different_mailboxes_are_no_overlap(fake: FakeExchange) -> None:
    fake.faults.add("slow", operation="SyncFolderItems", delay_ms=300, times=None)
    calls = [("relsync (a:1)", ALICE.email), ("relsync (a:1)", ALICE.email), ("relsync (b:2)", BOB.email)]
    assert _at_once(fake, calls) == [200, 200, 200]
    assert fake.overlaps.to_json()["overlaps"] == []
    assert fake.stats.max_concurrent[ALICE.email.lower()] == 2  # they did run at the same time


def test_the_recorder_ignores_requests_that_are_not_syncs_and_forgets_on_reset() -> None:
    recorder = OverlapRecorder()
    assert not recorder.begin("GetFolder", "ann@x.example", "a")
    assert recorder.begin("SyncFolderItems", "ann@x.example", "a")
    assert recorder.begin("SyncFolderItems", "ANN@x.example", "b")
    recorder.end("ann@x.example", "a")
    recorder.end("ann@x.example", "b")
    assert recorder.begin("SyncFolderItems", "ann@x.example", "c")  # a and b are done: no overlap
    assert [o["client"] for o in recorder.to_json()["overlaps"]] == ["b"]
    recorder.reset()
    assert recorder.to_json() == {"overlaps": [], "clients": {}}
