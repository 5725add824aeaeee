"""Creating 10,000 follow-up tasks in owners' Tasks folders, in batches, requests counted. Run by hand:

    .venv/bin/python benchmarks/followup_tasks.py [--tasks 10000] [--owners 2]

A fake Exchange on loopback (in this process, so client and server share the GIL: absolute figures are
pessimistic, the ratios are what matter) with ``--owners`` staff mailboxes; each pass gets fresh ones.

(a) raw baseline: exchangelib ``Account.bulk_create`` of plain ``Task`` objects, 100 per CreateItem;
(b) ``connector.ews.tasks.create_tasks``: the same, with our id stamped on every task (extended property),
    a body, a category and a reminder;
(c) the whole job, ``scheduler.followups_job.run_followups``, on a SQLite store holding ``--tasks``
    relationships (tier Average, an explicit owner): owners decided, plan, outbox rows committed, the
    master category list checked, "find by our id" for nothing pending, tasks created, links recorded;
(d) (c) again: nothing to do, so no CreateItem at all.

Requests are counted by the fake per operation.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from exchangelib import Task  # noqa: E402

from connector.ews.client import EwsConnection  # noqa: E402
from connector.ews.settings import EwsSettings  # noqa: E402
from connector.ews.tasks import create_tasks  # noqa: E402
from connector.fake.ews.server import FakeExchange  # noqa: E402
from connector.fake.model import ItemSpec, Mailbox  # noqa: E402
from connector.writer import NewTask  # noqa: E402
from mapping.store.migrate import upgrade  # noqa: E402
from mapping.store.models import Organisation, Relationship, RelationshipStatus, StaffMailbox  # noqa: E402
from mapping.store.store import Store  # noqa: E402
from scheduler.cli import write_fake_config  # noqa: E402
from scheduler.config import load_config  # noqa: E402
from scheduler.followups_job import run_followups  # noqa: E402

DOMAIN = "contoso.example"


class Company:
    def __init__(self, owners: int) -> None:
        self.seed, self.domain = 5, DOMAIN
        self.staff = tuple(Mailbox(f"Staff {n}", f"staff{n}@{DOMAIN}", mailbox_type="Mailbox") for n in range(owners))

    def mailboxes(self) -> tuple[Mailbox, ...]:
        return self.staff

    def folder(self, mailbox: str, folder: str) -> list[ItemSpec]:
        return []


def _ops(fake: FakeExchange) -> dict[str, int]:
    return dict(fake.stats.to_json()["operations"])


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}


def _connection(fake: FakeExchange) -> EwsConnection:
    return EwsConnection(
        EwsSettings(endpoint=fake.url, username=fake.username, password=fake.password, auth="basic", timeout_seconds=60)
    )


def raw(tasks: int, owners: int) -> tuple[float, dict[str, int]]:
    with FakeExchange(Company(owners)) as fake:
        conn = _connection(fake)
        accounts = [conn.account(m.email) for m in fake.company.mailboxes()]
        for a in accounts:
            _ = a.tasks  # folder lookups outside the timing, as (b) does
        before, start = _ops(fake), time.perf_counter()
        per = tasks // owners
        for a in accounts:
            for s in range(0, per, 100):
                a.bulk_create(
                    folder=a.tasks,
                    items=[
                        Task(account=a, folder=a.tasks, subject=f"Task {s + i}", due_date=date(2027, 1, 4))
                        for i in range(min(100, per - s))
                    ],
                )
        took = time.perf_counter() - start
        conn.close()
        return took, _delta(before, _ops(fake))


def connector(tasks: int, owners: int) -> tuple[float, dict[str, int]]:
    with FakeExchange(Company(owners)) as fake:
        conn = _connection(fake)
        accounts = [conn.account(m.email) for m in fake.company.mailboxes()]
        for a in accounts:
            _ = a.tasks
        before, start = _ops(fake), time.perf_counter()
        per = tasks // owners
        for n, a in enumerate(accounts):
            new = [
                NewTask(
                    f"bench-{n}-{i}",
                    f"Follow up: Contact {i}, Org {i} (monthly: telephone, e-mail)",
                    "Relationship: ...\nLast interactions:\n  none recorded",
                    date(2027, 1, 4),
                    datetime(2027, 1, 4, 9, tzinfo=UTC),
                    "Normal",
                    ("Follow-up",),
                )
                for i in range(per)
            ]
            results = create_tasks(a, new)
            assert not any(isinstance(r, Exception) for r in results)
        took = time.perf_counter() - start
        conn.close()
        return took, _delta(before, _ops(fake))


def job(tasks: int, owners: int) -> list[tuple[str, float, dict[str, int]]]:
    with FakeExchange(Company(owners)) as fake, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "relsync.toml"
        addresses = [m.email for m in fake.company.mailboxes()]
        write_fake_config(path, fake.url, fake.username, fake.password, addresses, DOMAIN)
        path.write_text(
            path.read_text(encoding="utf-8").replace('level = "INFO"', 'level = "WARNING"'), encoding="utf-8"
        )
        loaded = load_config(path)
        url = loaded.config.store.url
        upgrade(url)
        store = Store(url)
        for a in addresses:
            store.ensure_mailbox(a, a)
        with store.session() as s:
            ids = dict(s.execute(sa.select(StaffMailbox.address, StaffMailbox.id)).all())
            s.execute(
                sa.insert(Organisation), [{"name": f"Org {i}", "normalised_name": f"org {i}"} for i in range(tasks)]
            )
            orgs = list(s.scalars(sa.select(Organisation.id).order_by(Organisation.id)))
            s.execute(
                sa.insert(Relationship),
                [
                    {
                        "organisation_id": o,
                        "tier": "Average",
                        "potential": "Average",
                        "status": RelationshipStatus.ACTIVE,
                        "owner": addresses[i % owners],
                        "owner_mailbox_id": ids[addresses[i % owners]],
                    }
                    for i, o in enumerate(orgs)
                ],
            )
        out = []
        now = datetime.now(UTC)
        for label in ("(c) run_followups: plan + outbox + create", "(d) run_followups again"):
            before, start = _ops(fake), time.perf_counter()
            report = run_followups(loaded, now=now + timedelta(minutes=len(out)), store=store)
            took = time.perf_counter() - start
            assert not any(o.error for o in report.owners.values()), report
            out.append((label, took, _delta(before, _ops(fake))))
        created = sum(len(list(fake.mailboxes[a].items("tasks"))) for a in addresses)
        assert created == tasks, created
        store.dispose()
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--owners", type=int, default=2)
    args = parser.parse_args()
    rows: list[tuple[str, float, dict[str, Any]]] = []
    t, ops = raw(args.tasks, args.owners)
    rows.append(("(a) raw exchangelib bulk_create", t, ops))
    t, ops = connector(args.tasks, args.owners)
    rows.append(("(b) connector.ews.tasks.create_tasks", t, ops))
    rows += job(args.tasks, args.owners)
    base = rows[0][1]
    print(f"{args.tasks} tasks over {args.owners} owners")
    print(f"{'pass':45} {'seconds':>8} {'tasks/s':>9} {'vs (a)':>7}  requests")
    for label, took, ops in rows:
        rate = args.tasks / took if took else float("inf")
        print(f"{label:45} {took:8.2f} {rate:9.0f} {base / took if took else 0:6.2f}x  {ops}")


if __name__ == "__main__":
    main()
