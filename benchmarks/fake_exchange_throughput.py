"""How fast does the fake Exchange serve a big folder? Run by hand:

    .venv/bin/python benchmarks/fake_exchange_throughput.py [--items 20000] [--page 512]

Side by side, for one inbox of N generated messages (page size 512, every field exchangelib asks for
by default):

1. a plain HTTP client (``requests``) posting the exact SyncFolderItems envelope exchangelib builds,
   resending the returned SyncState, reading only the bytes (once cold, once more from the start:
   the second pass is served from the bounded cache of rendered items, up to its 20,000 entries);
2. exchangelib itself paging through the same folder (``services.SyncFolderItems`` page by page,
   as notes §1.3 recommends).

The requirement for the fake is >= 5,000 items/s for (1) on the 2-core machine.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from exchangelib import BASIC, IMPERSONATION, UTC, Account, Build, Configuration, Credentials, Version  # noqa: E402
from exchangelib.items import ID_ONLY  # noqa: E402
from exchangelib.properties import FieldPath  # noqa: E402
from exchangelib.services import SyncFolderItems  # noqa: E402

from connector.fake.company.generator import Scale, build_company  # noqa: E402
from connector.fake.ews.server import FakeExchange  # noqa: E402

_STATE = re.compile(rb"<m:SyncState>([^<]*)</m:SyncState>")
_LAST = re.compile(rb"<m:IncludesLastItemInRange>(true|false)</m:IncludesLastItemInRange>")


def account(ex: Endpoint, email: str) -> Account:
    cfg = Configuration(
        service_endpoint=ex.url,
        credentials=Credentials(ex.username, ex.password),
        auth_type=BASIC,
        version=Version(build=Build(15, 1, 2507, 6)),
    )
    return Account(email, config=cfg, access_type=IMPERSONATION, default_timezone=UTC)


def raw_client(ex: Endpoint, acc: Account, page: int) -> tuple[int, float, int]:
    folder = acc.inbox
    fields = {FieldPath(field=f) for f in folder.allowed_item_fields(version=acc.version)}
    svc = SyncFolderItems(account=acc)

    def envelope(state: str | None) -> bytes:
        payload = svc.get_payload(
            folder=folder,
            shape=ID_ONLY,
            additional_fields=fields,
            sync_state=state,
            ignore=None,
            max_changes_returned=page,
            sync_scope="NormalItems",
        )
        data: bytes = svc.wrap(content=payload, api_version=acc.version.api_version)
        return data

    session = requests.Session()
    session.auth = (ex.username, ex.password)
    headers = {"Content-Type": "text/xml; charset=utf-8", "X-AnchorMailbox": acc.primary_smtp_address}
    state: str | None = None
    items = 0
    nbytes = 0
    t0 = time.perf_counter()
    while True:
        r = session.post(ex.url, data=envelope(state), headers=headers)
        r.raise_for_status()
        body = r.content
        nbytes += len(body)
        items += body.count(b"<t:Create>") + body.count(b"<t:Update>")
        m = _STATE.search(body)
        last = _LAST.search(body)
        assert m is not None and last is not None
        state = m.group(1).decode()
        if last.group(1) == b"true":
            break
    return items, time.perf_counter() - t0, nbytes


def exchangelib_client(acc: Account, page: int) -> tuple[int, float]:
    folder = acc.inbox
    fields = {FieldPath(field=f) for f in folder.allowed_item_fields(version=acc.version)}
    svc = SyncFolderItems(account=acc)
    state = None
    items = 0
    t0 = time.perf_counter()
    while True:
        changes = list(
            svc.call(
                folder=folder,
                shape=ID_ONLY,
                additional_fields=fields,
                sync_state=state,
                ignore=None,
                max_changes_returned=page,
                sync_scope="NormalItems",
            )
        )
        items += len(changes)
        state = svc.sync_state
        if svc.includes_last_item_in_range:
            break
    return items, time.perf_counter() - t0


@dataclass
class Endpoint:
    """Where the fake listens (the attributes the clients need, in or out of process)."""

    url: str
    username: str
    password: str
    email: str


def _serve(items: int, conn: Connection) -> None:
    """Child process: run the fake until the parent says stop."""
    company = build_company(7, 1, Scale(contacts=0, inbox=items, sentitems=0, calendar=0, tasks=0))
    with FakeExchange(company) as ex:
        conn.send(Endpoint(ex.url, ex.username, ex.password, company.mailboxes()[0].email))
        conn.recv()


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    ep: Endpoint, page: int, server_pid: int | None = None
) -> tuple[tuple[int, float, int], tuple[int, float, int], tuple[int, float], float | None]:
    acc = account(ep, ep.email)
    _ = acc.inbox  # warm up the folder lookups (two GetFolder calls)
    before = cpu_seconds(server_pid) if server_pid else None
    cold = raw_client(ep, acc, page)
    after = cpu_seconds(server_pid) if server_pid else None
    server_cpu = after - before if before is not None and after is not None else None
    warm = raw_client(ep, acc, page)
    return cold, warm, exchangelib_client(acc, page), server_cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--page", type=int, default=512)
    ap.add_argument("--in-process", action="store_true", help="run the fake in this process (shares the GIL)")
    args = ap.parse_args()
    if args.in_process:
        company = build_company(7, 1, Scale(contacts=0, inbox=args.items, sentitems=0, calendar=0, tasks=0))
        with FakeExchange(company) as ex:
            ep = Endpoint(ex.url, ex.username, ex.password, company.mailboxes()[0].email)
            cold, warm, lib, server_cpu = measure(ep, args.page)
    else:
        ctx = mp.get_context("fork")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(args.items, child), daemon=True)
        proc.start()
        ep = parent.recv()
        try:
            cold, warm, lib, server_cpu = measure(ep, args.page, proc.pid)
        finally:
            parent.send("stop")
            proc.join(timeout=10)
    (n_raw, t_raw, nbytes), (n_warm, t_warm, _), (n_ex, t_ex) = cold, warm, lib
    raw_rate, ex_rate = n_raw / t_raw, n_ex / t_ex
    where = "in this process" if args.in_process else "in its own process"
    print(f"folder: {args.items} messages, page size {args.page}, fake {where}")
    print(
        f"plain HTTP client : {n_raw:>7} items in {t_raw:6.2f} s = {raw_rate:8.0f} items/s "
        f"({nbytes / t_raw / 1e6:.1f} MB/s, {nbytes / max(n_raw, 1):.0f} bytes/item)"
    )
    if server_cpu:
        print(
            f"  the fake used {server_cpu:.2f} CPU-s for the cold pass = {n_raw / server_cpu:8.0f} items per "
            "CPU-second (its throughput on one otherwise idle core)"
        )
    print(
        f"plain HTTP, again : {n_warm:>7} items in {t_warm:6.2f} s = {n_warm / t_warm:8.0f} items/s "
        "(fragments from the bounded render cache)"
    )
    print(f"exchangelib       : {n_ex:>7} items in {t_ex:6.2f} s = {ex_rate:8.0f} items/s")
    print(f"ratio fake/exchangelib: {raw_rate / ex_rate:.1f}x")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
