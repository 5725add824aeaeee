"""Batched category write-back against the fake Exchange, through sync, the store and the job glue.

Every response of the fake is checked against the EWS schema (the ``make_env`` fixture).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from connector.ews.master_categories import add_missing_categories
from connector.fake.userconfig import CATEGORY_LIST, CATEGORY_LIST_FOLDER
from mapping.categories import PlannedCategories
from mapping.store.writeback_plan import category_plan
from scheduler.jobs import WriteBackReport, write_back_categories
from tests.e2e.syncenv import ALICE, BOB, DANA, ERIN, GINA, EnvFactory, HandCompany, SyncEnv, contact

MANAGED: list[tuple[str, int]] = [
    ("Customer", 7),
    ("Vendor", 5),
    ("Value: Superior", 4),
    ("Value: Average", 3),
    ("Potential: High", 0),
]
WANTED_BY_EMAIL = {
    DANA.email: ("Customer", "Value: Superior", "Potential: High"),
    ERIN.email: ("Vendor", "Value: Average"),
}


def company() -> HandCompany:
    both = [
        contact(1, "Dana Dunn", DANA.email, Categories=("VIP", "Value: Average")),
        contact(2, "Erin Estrada", ERIN.email),
    ]
    return HandCompany(
        items={
            (ALICE.email, "contacts"): [*both, contact(3, "Gina Gmail", GINA.email, Categories=("Golf",))],
            (BOB.email, "contacts"): [
                contact(4, "Dana Dunn", DANA.email, Categories=("Lunch club",)),
                contact(5, "Erin Estrada", ERIN.email),
            ],
        }
    )


def sync_all(env: SyncEnv) -> None:
    for owner in (ALICE, BOB):
        assert env.sync(owner.email, ["contacts"]).ok


def wanted(env: SyncEnv) -> dict[int, tuple[str, ...]]:
    rows = env.rows("SELECT address, person_id FROM email_addresses")
    return {person_id: WANTED_BY_EMAIL[address] for address, person_id in rows if address in WANTED_BY_EMAIL}


def write_back(env: SyncEnv, chunk_size: int = 100) -> WriteBackReport:
    def plan(session: Session) -> Sequence[PlannedCategories]:
        return category_plan(session, wanted(env))

    return write_back_categories(env.connection, env.store, plan, MANAGED, chunk_size=chunk_size)


def categories_by_name(env: SyncEnv, owner: str) -> dict[str, tuple[str, ...]]:
    return {
        str(spec.fields["DisplayName"]): tuple(spec.fields.get("Categories") or ())
        for _, spec in env.mb(owner).items("contacts")
    }


def updates(env: SyncEnv) -> int:
    ops: dict[str, Any] = env.ex.stats.to_json()["operations"]
    return int(ops.get("UpdateItem", 0))


def master_list(env: SyncEnv, owner: str) -> list[tuple[str, str]]:
    from lxml import etree

    config = env.ex.user_configs.get(env.mb(owner).number, CATEGORY_LIST_FOLDER, CATEGORY_LIST)
    assert config is not None and config.xml_data is not None
    root = etree.fromstring(config.xml_data)
    return [(str(el.get("name")), str(el.get("color"))) for el in root]


def test_right_categories_on_every_contact_in_every_mailbox_and_user_ones_kept(make_env: EnvFactory) -> None:
    env = make_env(company())
    sync_all(env)
    report = write_back(env)
    assert report.planned == 4 and report.written == 4 and report.failed == 0
    assert sum(report.written_by_mailbox.values()) == 4 and set(report.written_by_mailbox) <= {ALICE.email, BOB.email}
    assert categories_by_name(env, ALICE.email) == {
        "Dana Dunn": ("VIP", "Customer", "Value: Superior", "Potential: High"),  # old managed one replaced
        "Erin Estrada": ("Vendor", "Value: Average"),
        "Gina Gmail": ("Golf",),  # not classified: not touched
    }
    assert categories_by_name(env, BOB.email) == {
        "Dana Dunn": ("Lunch club", "Customer", "Value: Superior", "Potential: High"),
        "Erin Estrada": ("Vendor", "Value: Average"),
    }


def test_a_second_write_back_and_a_resync_after_it_write_nothing(make_env: EnvFactory) -> None:
    env = make_env(company())
    sync_all(env)
    write_back(env)
    before = updates(env)
    again = write_back(env)  # from what we recorded after the write
    assert updates(env) == before and again.written == 0
    sync_all(env)  # our own writes come back through sync ...
    after_sync = write_back(env)  # ... and cause no new write
    assert updates(env) == before and after_sync.written == 0
    assert env.ex.stats.to_json()["operations"].get("UpdateUserConfiguration", 0) == 2  # once per mailbox


def test_writes_go_out_in_batches(make_env: EnvFactory) -> None:
    env = make_env(company())
    sync_all(env)
    write_back(env, chunk_size=100)
    assert updates(env) == 2  # one UpdateItem per mailbox for its two contacts


def test_a_category_the_user_adds_between_our_read_and_write_is_merged_not_lost(make_env: EnvFactory) -> None:
    env = make_env(company())
    sync_all(env)
    dana = next(i for i, s in env.mb(ALICE.email).items("contacts") if s.fields["DisplayName"] == "Dana Dunn")
    env.mb(ALICE.email).update(dana, Categories=("VIP", "Value: Average", "Board"))  # stale ChangeKey now
    report = write_back(env)
    assert report.failed == 0
    assert categories_by_name(env, ALICE.email)["Dana Dunn"] == (
        "VIP",
        "Board",
        "Customer",
        "Value: Superior",
        "Potential: High",
    )
    # the other item of the conflicting chunk was written too, and what we recorded is current:
    assert categories_by_name(env, ALICE.email)["Erin Estrada"] == ("Vendor", "Value: Average")
    before = updates(env)
    assert write_back(env).written == 0 and updates(env) == before


def test_an_injected_conflict_is_retried(make_env: EnvFactory) -> None:
    env = make_env(company())
    sync_all(env)
    env.ex.faults.add("conflict", operation="UpdateItem", mailbox=BOB.email, times=1)
    report = write_back(env)
    assert report.failed == 0
    assert categories_by_name(env, BOB.email)["Dana Dunn"] == (
        "Lunch club",
        "Customer",
        "Value: Superior",
        "Potential: High",
    )


def test_master_category_list_gets_the_managed_categories_with_colours_once(make_env: EnvFactory) -> None:
    env = make_env(company())
    sync_all(env)
    before = master_list(env, ALICE.email)
    assert ("Red category", "0") in before
    report = write_back(env)
    assert report.master_added == {ALICE.email: [n for n, _ in MANAGED], BOB.email: [n for n, _ in MANAGED]}
    after = master_list(env, ALICE.email)
    assert after[: len(before)] == before  # the user's own entries untouched
    assert after[len(before) :] == [(n, str(c)) for n, c in MANAGED]
    assert write_back(env).master_added == {}


def test_master_list_keeps_a_users_colour_for_a_managed_name() -> None:
    doc, added = add_missing_categories(
        b'<categories xmlns="CategoryList.xsd"><category name="customer" color="12" x="1"/></categories>',
        [("Customer", 7), ("Vendor", 5)],
    )
    assert added == ["Vendor"]
    assert b'name="customer" color="12" x="1"' in doc and b'name="Vendor" color="5"' in doc
    same, none = add_missing_categories(doc, [("Customer", 7)])
    assert none == [] and same == doc
