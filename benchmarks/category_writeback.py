"""Writing managed categories to 10,000 Outlook contacts: batched, next to single-item writes. Run by hand:

    .venv/bin/python benchmarks/category_writeback.py [--contacts 10000] [--mailboxes 2] [--chunk 100]
                                                      [--single 1000]

A fake Exchange on loopback (in this process, so client and server share the GIL: absolute figures are
pessimistic, the ratio is what matters) with ``--contacts`` contacts spread over ``--mailboxes``
mailboxes, each carrying one user category and an old managed one.

(a) raw baseline, single-item: ``connector.ews.categories.update_categories`` per contact (GetItem for the
    fresh categories and ChangeKey, then UpdateItem of ``categories`` only), on a fake with ``--single``
    contacts (extrapolating is fair: each item costs the same two requests);
(b) batched: ``connector.ews.categories.write_categories_batched`` over every contact, from the categories
    and ChangeKeys the store would hold after a sync (no read), ``--chunk`` item changes per UpdateItem;
(c) the same batched call again: nothing differs, so zero requests.

Requests are counted by the fake (``/_fake/stats``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exchangelib import Account  # noqa: E402
from exchangelib.properties import ItemId  # noqa: E402

from connector.ews.categories import update_categories, write_categories_batched  # noqa: E402
from connector.ews.client import EwsConnection  # noqa: E402
from connector.ews.settings import EwsSettings  # noqa: E402
from connector.fake.ews.server import FakeExchange  # noqa: E402
from connector.fake.model import ItemSpec, Mailbox  # noqa: E402
from connector.writer import PlannedCategories  # noqa: E402

MANAGED = ("Customer", "Vendor", "Value: Superior", "Value: Average", "Value: Marginal", "Potential: High")
WANTED = ("Customer", "Value: Superior", "Potential: High")


class Company:
    """``mailboxes`` staff mailboxes holding ``contacts`` contacts between them."""

    def __init__(self, contacts: int, mailboxes: int) -> None:
        self.seed = 11
        self.domain = "contoso.example"
        self.staff = tuple(
            Mailbox(f"Staff {n}", f"staff{n}@contoso.example", mailbox_type="Mailbox") for n in range(mailboxes)
        )
        self.per_mailbox = contacts // mailboxes

    def mailboxes(self) -> tuple[Mailbox, ...]:
        return self.staff

    def folder(self, mailbox: str, folder: str) -> list[ItemSpec]:
        if folder != "contacts":
            return []
        return [
            ItemSpec(
                "Contact",
                {
                    "DisplayName": f"Contact {n}",
                    "Subject": f"Contact {n}",
                    "EmailAddresses": {"EmailAddress1": f"c{n}@{mailbox.split('@')[0]}.example"},
                    "Categories": ("VIP", "Value: Average"),
                },
            )
            for n in range(self.per_mailbox)
        ]


def requests(fake: FakeExchange) -> dict[str, Any]:
    ops: dict[str, Any] = fake.stats.to_json()["operations"]
    return {k: v for k, v in ops.items() if k in ("GetItem", "UpdateItem")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=10_000)
    ap.add_argument("--mailboxes", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=100)
    ap.add_argument("--single", type=int, default=1_000, help="contacts written one by one for the baseline")
    args = ap.parse_args()

    # (b) batched, every contact; (c) the same again
    with FakeExchange(Company(args.contacts, args.mailboxes)) as fake:
        connection, accounts, plan = setup(fake)
        print(f"{len(plan)} contacts in {len(accounts)} mailboxes, chunk {args.chunk}")
        fake.stats.reset()
        t0 = time.perf_counter()
        results = write_categories_batched(accounts.__getitem__, plan, MANAGED, chunk_size=args.chunk)
        dt_batch = time.perf_counter() - t0
        req_batch = requests(fake)
        failed = sum(not r.ok for r in results)
        wrong = sum(
            tuple(spec.fields["Categories"]) != ("VIP", *WANTED)
            for mb in fake.mailboxes.values()
            for _, spec in mb.items("contacts")
        )
        again = [PlannedCategories(r.key, r.mailbox, r.item_id, r.change_key, r.categories, WANTED) for r in results]
        fake.stats.reset()
        t0 = time.perf_counter()
        write_categories_batched(accounts.__getitem__, again, MANAGED, chunk_size=args.chunk)
        dt_again, req_again = time.perf_counter() - t0, requests(fake)
        connection.close()

    # (a) the single-item baseline, on a fresh fake with --single contacts
    with FakeExchange(Company(args.single, args.mailboxes)) as fake:
        connection, accounts, single = setup(fake)
        fake.stats.reset()
        t0 = time.perf_counter()
        for entry in single:
            update_categories(
                accounts[entry.mailbox], entry.item_id, add=WANTED, remove=[m for m in MANAGED if m not in WANTED]
            )
        dt_single = time.perf_counter() - t0
        req_single = requests(fake)
        connection.close()

    n_b, n_a = len(plan), len(single)
    print(
        f"(a) single-item : {n_a:>6} items in {dt_single:6.2f} s = {n_a / dt_single:8.0f} items/s,"
        f" requests {req_single} ({sum(req_single.values()) / max(1, n_a):.2f} per item)"
    )
    print(
        f"(b) batched     : {n_b:>6} items in {dt_batch:6.2f} s = {n_b / dt_batch:8.0f} items/s,"
        f" requests {req_batch} ({sum(req_batch.values()) / max(1, n_b):.3f} per item),"
        f" failed {failed}, wrong categories afterwards {wrong}"
    )
    print(f"    batched / single-item: {n_b / dt_batch / (n_a / dt_single):.1f}x")
    print(f"(c) second run  : {n_b:>6} items in {dt_again:6.2f} s, requests {req_again}")


def setup(fake: FakeExchange) -> tuple[EwsConnection, dict[str, Account], list[PlannedCategories]]:
    """A connection, one warmed-up account per mailbox, and the plan as the store would hold it after a sync."""
    connection = EwsConnection(
        EwsSettings(endpoint=fake.url, username=fake.username, password=fake.password, auth="basic", max_connections=1)
    )
    accounts = {address: connection.account(address) for address in fake.mailboxes}
    plan: list[PlannedCategories] = []
    for address, mb in fake.mailboxes.items():
        for item_id, spec in mb.items("contacts"):
            plan.append(
                PlannedCategories(
                    len(plan),
                    address,
                    item_id,
                    mb.current_change_key(item_id),
                    tuple(spec.fields["Categories"]),
                    WANTED,
                )
            )
    for account in accounts.values():  # connection set-up out of the timings
        list(account.fetch(ids=[ItemId(id=plan[0].item_id)], only_fields=["categories"]))
    return connection, accounts, plan


if __name__ == "__main__":
    main()
