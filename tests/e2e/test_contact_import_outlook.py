"""`relsync import contacts --to-outlook` end to end, over EWS and over Graph: imported people in no staff
mailbox yet become Outlook contacts in their owner's Contacts folder, stamped with relsync's id, once;
a re-run creates none; a run stopped between the write and its record adopts the contact it made;
`relsync import undo` removes the contacts nobody changed and keeps the one staff edited.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from lxml import etree

from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from connector.fake.mailbox import MailboxStore
from connector.graph.contacts_write import PROPERTY_SET
from scheduler.cli import cli, start_fake_graph, write_fake_config

STAMP = "relsync-contact-id"


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def stamped(mb: MailboxStore) -> dict[str, dict[str, Any]]:
    """Our id -> the fields of each contact in the mailbox carrying relsync's contact stamp."""
    out: dict[str, dict[str, Any]] = {}
    for _item_id, spec in mb.items("contacts"):
        for prop in spec.fields.get("ExtendedProperty") or ():
            if prop.property_name == STAMP and (prop.property_set_id or "").lower() == PROPERTY_SET:
                out[prop.value] = spec.fields
    return out


@pytest.fixture(params=["ews", "graph"])
def setup(
    request: pytest.FixtureRequest, tmp_path: Path, ews_schema: etree.XMLSchema
) -> Iterator[tuple[Path, FakeExchange, list[str]]]:
    company = build_company(5, 2, "tiny")
    with FakeExchange(company, validate=ews_schema) as fake:
        addresses = [m.email for m in company.mailboxes()]
        graph = start_fake_graph(fake) if request.param == "graph" else None
        try:
            config = tmp_path / "relsync.toml"
            write_fake_config(config, fake.url, fake.username, fake.password, addresses, company.domain, graph=graph)
            assert run(config, "db", "upgrade").exit_code == 0
            yield config, fake, addresses
        finally:
            for stop in graph.stoppers if graph else ():
                stop()
    assert fake.violations == []


def write_file(path: Path, owners: list[str]) -> Path:
    rows = [
        ("Ada Quernby", "ada.quernby@quernworks.example", "Quernworks Ltd", "+44 20 7946 0101", owners[0]),
        ("Bo Tillery", "bo.tillery@tillery-instruments.example", "Tillery Instruments", "", owners[1]),
        ("Cy Narrowgate", "cy@narrowgate.example", "Narrowgate", "", "Someone Else <someone@elsewhere.example>"),
    ]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Name", "Email", "Company", "Phone", "Owner"])
        w.writerows(rows)
    return path


def report(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def store_url(config: Path) -> str:
    from scheduler.config import load_config

    return load_config(config).config.store.url


def test_owner_rule_creates_each_contact_once_in_its_owners_mailbox_and_undo_removes_them(
    setup: tuple[Path, FakeExchange, list[str]],
) -> None:
    config, fake, addresses = setup
    path = write_file(config.parent / "crm.csv", [addresses[0], addresses[1].upper()])
    first = report(run(config, "import", "contacts", str(path), "--apply", "--to-outlook", "owner", "--json"))
    got = first["to_outlook"]
    assert (got["created"], got["adopted"], got["failed"]) == (2, 0, [])
    assert [s["name"] for s in got["skipped"]] == ["Cy Narrowgate"]
    ada = stamped(fake.mailboxes[addresses[0]])
    bo = stamped(fake.mailboxes[addresses[1]])
    assert [f["DisplayName"] for f in ada.values()] == ["Ada Quernby"]
    assert [f["DisplayName"] for f in bo.values()] == ["Bo Tillery"]
    assert next(iter(ada.values()))["CompanyName"] == "Quernworks Ltd"

    # Every write is audited, like a category write.
    engine = sa.create_engine(store_url(config))
    with engine.connect() as conn:
        audited = conn.exec_driver_sql(
            "SELECT count(*) FROM audit_log WHERE kind = 'exchange_write' AND action = 'create_contact'"
        ).scalar()
    assert audited == 2

    # The same file again: the store changes nothing, and no second contact is made.
    again = report(run(config, "import", "contacts", str(path), "--to-outlook", "owner", "--json"))
    assert (again["to_outlook"]["created"], again["to_outlook"]["already_created"]) == (0, 2)
    assert len(stamped(fake.mailboxes[addresses[0]])) == 1 and len(stamped(fake.mailboxes[addresses[1]])) == 1

    # Staff edit Bo's contact: the undo keeps it (it is theirs now) and removes Ada's.
    mb = fake.mailboxes[addresses[1]]
    (bo_id,) = [i for i, spec in mb.items("contacts") if spec.fields.get("DisplayName") == "Bo Tillery"]
    mb.update(bo_id, JobTitle="Buyer")
    undone = run(config, "import", "undo", str(first["batch"]), "--json")
    assert undone.exit_code == 0, undone.output
    assert json.loads(undone.output)["outlook_contacts"] == {"removed": 1, "kept": 1}
    assert stamped(fake.mailboxes[addresses[0]]) == {}
    assert len(stamped(fake.mailboxes[addresses[1]])) == 1
    with engine.connect() as conn:
        states = sorted(r[0] for r in conn.exec_driver_sql("SELECT state FROM import_outlook_contacts"))
        removals = conn.exec_driver_sql("SELECT count(*) FROM audit_log WHERE action = 'remove_contact'").scalar()
    engine.dispose()
    assert states == ["kept", "removed"] and removals == 2


def test_a_run_stopped_after_the_write_adopts_the_contact_instead_of_making_a_second(
    setup: tuple[Path, FakeExchange, list[str]],
) -> None:
    config, fake, addresses = setup
    path = write_file(config.parent / "crm.csv", [addresses[0], addresses[0]])
    first = report(run(config, "import", "contacts", str(path), "--apply", "--to-outlook", addresses[0], "--json"))
    assert first["to_outlook"]["created"] == 3  # a mailbox rule places everyone, whatever the owner column
    # As if the process had died between Exchange's answer and the store's record of it.
    engine = sa.create_engine(store_url(config))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE import_outlook_contacts SET state = 'intended', item_id = NULL, change_key = NULL "
            "WHERE id = (SELECT min(id) FROM import_outlook_contacts)"
        )
    again = report(run(config, "import", "contacts", str(path), "--to-outlook", addresses[0], "--json"))
    assert (again["to_outlook"]["created"], again["to_outlook"]["adopted"]) == (0, 1)
    assert len(stamped(fake.mailboxes[addresses[0]])) == 3
    with engine.connect() as conn:
        rows = list(conn.exec_driver_sql("SELECT state, item_id FROM import_outlook_contacts"))
    engine.dispose()
    assert all(state == "created" and item for state, item in rows)


def test_undo_after_a_stopped_run_finds_the_unrecorded_contact_by_its_stamp_and_removes_it(
    setup: tuple[Path, FakeExchange, list[str]],
) -> None:
    config, fake, addresses = setup
    path = write_file(config.parent / "crm.csv", [addresses[0], addresses[0]])
    first = report(run(config, "import", "contacts", str(path), "--apply", "--to-outlook", addresses[0], "--json"))
    engine = sa.create_engine(store_url(config))
    with engine.begin() as conn:  # the process died after Exchange made the contact, before the record
        conn.exec_driver_sql(
            "UPDATE import_outlook_contacts SET state = 'intended', item_id = NULL, change_key = NULL "
            "WHERE id = (SELECT min(id) FROM import_outlook_contacts)"
        )
    undone = run(config, "import", "undo", str(first["batch"]), "--json")
    assert undone.exit_code == 0, undone.output
    assert json.loads(undone.output)["outlook_contacts"] == {"removed": 3, "kept": 0}
    assert stamped(fake.mailboxes[addresses[0]]) == {}
    with engine.connect() as conn:
        states = {r[0] for r in conn.exec_driver_sql("SELECT state FROM import_outlook_contacts")}
    engine.dispose()
    assert states == {"removed"}


def test_to_outlook_is_refused_on_a_dry_run_and_for_an_unknown_mailbox(
    setup: tuple[Path, FakeExchange, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    from scheduler.cli.main import main

    config, fake, addresses = setup
    path = write_file(config.parent / "crm.csv", [addresses[0], addresses[1]])
    dry = run(config, "import", "contacts", str(path), "--dry-run", "--to-outlook", "owner")
    assert dry.exit_code == 2 and "--to-outlook creates Outlook contacts, which a dry run never does" in dry.output
    first = run(config, "import", "contacts", str(path), "--to-outlook", "owner")
    assert first.exit_code == 2 and "the first import of a file is a dry run" in first.output
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "import", "contacts", str(path), "--apply", "--to-outlook", "x@nowhere.example"])
    assert exited.value.code == 2
    assert "'x@nowhere.example': not a configured staff mailbox" in capsys.readouterr().err
    assert all(stamped(fake.mailboxes[a]) == {} for a in addresses)


def test_an_owner_cell_naming_a_staff_user_by_name_places_the_contact_in_their_mailbox(
    setup: tuple[Path, FakeExchange, list[str]],
) -> None:
    config, fake, addresses = setup
    assert run(config, "run-once").exit_code == 0  # synced mail shows the staff users' names
    ann = fake.company.mailboxes()[0].name
    given, _, surname = ann.rpartition(" ")
    login = addresses[1].split("@")[0].upper()
    # Legacy CRMs export owners as "Surname, Given" or a login, not an address.
    path = write_file(config.parent / "crm.csv", [f"{surname.upper()}, {given}", login])
    first = report(run(config, "import", "contacts", str(path), "--apply", "--to-outlook", "owner", "--json"))
    assert first["to_outlook"]["created"] == 2
    assert [f["DisplayName"] for f in stamped(fake.mailboxes[addresses[0]]).values()] == ["Ada Quernby"]
    assert [f["DisplayName"] for f in stamped(fake.mailboxes[addresses[1]]).values()] == ["Bo Tillery"]
    assert [s["name"] for s in first["to_outlook"]["skipped"]] == ["Cy Narrowgate"]
