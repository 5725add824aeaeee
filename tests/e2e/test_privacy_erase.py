"""Erasure end to end against the fake Exchange (EWS, real exchangelib over HTTP): a customer seen in
three mailboxes is erased; no table holds their address or name afterwards, the fake holds no managed
category on their contacts and no relsync task about them, staff's own categories and mail stay, a
later sync with new mail from them stores nothing, and the audit log verifies."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from exchangelib.protocol import close_connections
from lxml import etree

from connector.fake.ews.server import FakeExchange
from scheduler.cli import cli, start_fake_graph, write_fake_config
from scheduler.cli.main import main
from tests.e2e.syncenv import ALICE, BOB, CAROL, DANA, ERIN, T0, HandCompany, contact, meeting, message

RULES = """
[followups]
working_days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

[[rules]]
name = "Fabrikam is our best customer"
when = 'name == "Fabrikam"'
set = { tier = "Superior", potential = "High", status = "active", type = "customer" }

[[rules]]
name = "Northwind is average"
when = 'name == "Northwind"'
set = { tier = "Average", potential = "Average", status = "active", type = "customer" }
"""
ROOT = Path(__file__).resolve().parents[2]
NEEDLES = ("dana@fabrikam.example", "dana dunn")
OWN = "Golf buddy"  # Alice's own category on Dana's contact: never relsync's to remove


def company() -> HandCompany:
    return HandCompany(
        staff=(ALICE, BOB, CAROL),
        items={
            (ALICE.email, "contacts"): [contact(1, "Dana Dunn", DANA.email, Categories=(OWN,))],
            (BOB.email, "contacts"): [contact(2, "Dana Dunn", DANA.email), contact(3, "Erin Estrada", ERIN.email)],
            (CAROL.email, "contacts"): [contact(4, "Dana Dunn", DANA.email)],
            (ALICE.email, "inbox"): [message(1, "Offer", DANA, [ALICE], ConversationId="C1")],
            (ALICE.email, "sentitems"): [message(2, "RE: Offer", ALICE, [DANA], ConversationId="C1")],
            (BOB.email, "sentitems"): [message(3, "Prices", BOB, [DANA, ERIN])],
            (CAROL.email, "calendar"): [meeting(4, "Joint review", T0 + timedelta(days=1), CAROL, [DANA, ERIN])],
            (BOB.email, "calendar"): [meeting(5, "Review", T0 + timedelta(days=2), BOB, [ERIN])],
        },
    )


class Env:
    def __init__(self, fake: FakeExchange, config: Path, url: str) -> None:
        self.fake, self.config, self.url = fake, config, url

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(self.config), *args], catch_exceptions=False)

    def texts_naming(self, needles: tuple[str, ...]) -> list[str]:
        """table.column of every text value (also JSON) in the store that holds one of the needles."""
        engine = sa.create_engine(self.url)
        hits: list[str] = []
        try:
            with engine.connect() as conn:
                meta = sa.MetaData()
                meta.reflect(conn)
                for table in meta.sorted_tables:
                    for column in table.columns:
                        if not isinstance(column.type, sa.String | sa.Text | sa.JSON):
                            continue
                        for (value,) in conn.execute(sa.select(sa.cast(column, sa.Text)).where(column.is_not(None))):
                            if any(n in str(value).lower() for n in needles):
                                hits.append(f"{table.name}.{column.name}")
        finally:
            engine.dispose()
        return sorted(set(hits))

    def contacts_of_dana(self) -> dict[str, tuple[str, ...]]:
        out = {}
        for owner in (ALICE.email, BOB.email, CAROL.email):
            for _, spec in self.fake.mailboxes[owner].items("contacts"):
                if spec.fields.get("DisplayName") == "Dana Dunn":
                    out[owner] = tuple(spec.fields.get("Categories") or ())
        return out

    def task_subjects(self) -> list[str]:
        return [
            str(s.fields.get("Subject"))
            for owner in (ALICE.email, BOB.email, CAROL.email)
            for _, s in self.fake.mailboxes[owner].items("tasks")
        ]

    def mail_counts(self) -> dict[tuple[str, str], int]:
        return {
            (o, f): len(list(self.fake.mailboxes[o].items(f)))
            for o in (ALICE.email, BOB.email, CAROL.email)
            for f in ("inbox", "sentitems", "calendar", "contacts")
        }


@contextmanager
def make_env(tmp_path: Path, ews_schema: etree.XMLSchema, url: str, backend: str) -> Iterator[Env]:
    """The company in a fake Exchange, reached over EWS or over Microsoft Graph (fake token service)."""
    with FakeExchange(company(), validate=ews_schema) as fake:
        graph = start_fake_graph(fake) if backend == "graph" else None
        try:
            config = tmp_path / "relsync.toml"
            write_fake_config(
                config,
                fake.url,
                fake.username,
                fake.password,
                [ALICE.email, BOB.email, CAROL.email],
                "contoso.example",
                graph=graph,
            )
            text = config.read_text(encoding="utf-8").replace('url = "sqlite:///relsync.db"', f'url = "{url}"')
            config.write_text(text.replace('level = "INFO"', 'level = "WARNING"') + RULES, encoding="utf-8")
            e = Env(fake, config, url)
            assert e.run("db", "upgrade").exit_code == 0
            yield e
        finally:
            close_connections()
            for stop in graph.stoppers if graph else []:
                stop()
    assert fake.violations == []


@pytest.fixture
def env(tmp_path: Path, ews_schema: etree.XMLSchema, sqlite_url: str) -> Iterator[Env]:
    with make_env(tmp_path, ews_schema, sqlite_url, "ews") as e:
        yield e


@pytest.fixture(params=["ews", "graph"])
def any_env(
    request: pytest.FixtureRequest, tmp_path: Path, ews_schema: etree.XMLSchema, sqlite_url: str
) -> Iterator[Env]:
    with make_env(tmp_path, ews_schema, sqlite_url, request.param) as e:
        yield e


def test_erasing_a_customer_seen_in_three_mailboxes_leaves_nothing_of_them(any_env: Env, tmp_path: Path) -> None:
    env = any_env
    assert env.run("run-once").exit_code in (0, 1)
    before = env.contacts_of_dana()
    assert len(before) == 3 and all(len(cats) > (owner == ALICE.email) for owner, cats in before.items()), before
    assert any("Dana Dunn" in s for s in env.task_subjects()), env.task_subjects()
    assert env.texts_naming(NEEDLES)  # the store knew them
    mail = env.mail_counts()

    dry = env.run("privacy", "erase", DANA.email, "--dry-run")
    assert dry.exit_code == 0 and "outlook_contacts: 3" in dry.output, dry.output
    assert env.texts_naming(NEEDLES)  # a dry run changes nothing

    receipt_file = tmp_path / "receipt.json"
    result = env.run("privacy", "erase", DANA.email, "--receipt", str(receipt_file))
    assert result.exit_code == 0, result.output
    receipt = json.loads(receipt_file.read_text(encoding="utf-8"))
    assert receipt["exchange"]["contacts_cleared"] == 3 and receipt["store"]["people"] == 1
    assert not any(n in receipt_file.read_text(encoding="utf-8").lower() for n in NEEDLES)

    assert env.texts_naming(NEEDLES) == []
    after = env.contacts_of_dana()
    assert after == {ALICE.email: (OWN,), BOB.email: (), CAROL.email: ()}  # staff's own category stays
    assert not any("Dana" in s for s in env.task_subjects())
    assert env.mail_counts() == mail  # no staff mail or item was touched

    # She writes again: nothing of her is stored, in any mailbox.
    env.fake.mailboxes[ALICE.email].create("inbox", message(9, "Still there?", DANA, [ALICE]))
    env.fake.mailboxes[CAROL.email].create("inbox", message(10, "Hello Carol", DANA, [CAROL, ERIN]))
    assert env.run("run-once").exit_code in (0, 1)
    assert env.texts_naming(NEEDLES) == []

    again = env.run("privacy", "erase", DANA.email)  # a rerun: already done, same receipt
    assert again.exit_code == 0 and json.loads(again.stdout)["erasure_id"] == receipt["erasure_id"]
    verify = env.run("audit", "verify")
    assert verify.exit_code == 0, verify.output
    kinds = [json.loads(line)["kind"] for line in env.run("audit", "list", "--json").output.splitlines()]
    assert {"exchange_write", "erasure"} <= set(kinds)
    assert not any(n in env.run("audit", "list", "--json").output.lower() for n in NEEDLES)


def refused(env: Env, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run through the real entry point (errors become sentences and exit codes)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["--config", str(env.config), *args])
    return int(str(exc.value.code)), capsys.readouterr().err


def sql(env: Env, statement: str) -> object:
    engine = sa.create_engine(env.url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement))
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


def test_bad_subjects_are_refused_in_one_sentence_and_nothing_changes(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    assert env.run("run-once").exit_code in (0, 1)
    before = env.texts_naming(NEEDLES)
    code, err = refused(env, capsys, "privacy", "erase", "nobody@nowhere.example")
    assert code == 2 and "nobody in the store matches" in err and err.count("\n") == 1

    dana = sql(env, "SELECT person_id FROM email_addresses WHERE address = 'dana@fabrikam.example'")
    erin = sql(env, "SELECT person_id FROM email_addresses WHERE address = 'erin@northwind.example'")
    sql(env, f"UPDATE people SET merged_into_id = {dana} WHERE id = {erin}")
    code, err = refused(env, capsys, "privacy", "erase", str(erin))
    assert code == 2 and f"was merged into {dana}" in err
    sql(env, f"UPDATE people SET merged_into_id = NULL WHERE id = {erin}")

    alice = sql(env, f"SELECT id FROM staff_mailboxes WHERE address = '{ALICE.email}'")
    sql(env, f"DELETE FROM mailbox_leases WHERE mailbox_id = {alice}")
    sql(
        env,
        "INSERT INTO mailbox_leases (mailbox_id, holder, expires_at, next_due_at, failures) "
        f"VALUES ({alice}, 'worker-1', '2999-01-01 00:00:00', '2999-01-01 00:00:00', 0)",
    )
    code, err = refused(env, capsys, "privacy", "erase", DANA.email)
    assert code == 2 and "a daemon is syncing mailbox" in err and "nothing was erased" in err

    code, err = refused(env, capsys, "privacy", "erase", "twelve")
    assert code == 2 and "neither an e-mail address" in err
    assert env.texts_naming(NEEDLES) == before  # nothing partial
    assert sql(env, "SELECT count(*) FROM suppressions") == 0
    assert env.run("audit", "verify").exit_code == 0


def test_subject_access_export_holds_every_record_the_store_has_of_them(env: Env, tmp_path: Path) -> None:
    assert env.run("run-once").exit_code in (0, 1)
    out = tmp_path / "dana.json"
    result = env.run("privacy", "export", DANA.email, "--format", "json", "--output", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    (dana,) = doc["subject"]["person_ids"]
    engine = sa.create_engine(env.url)
    try:
        with engine.connect() as conn:
            meta = sa.MetaData()
            meta.reflect(conn)
            with_person = [t for t in meta.sorted_tables if "person_id" in t.columns]
            assert {"email_addresses", "interaction_participants", "relationships", "follow_ups"} <= {
                t.name for t in with_person
            }
            for table in with_person:
                ids = set(
                    conn.scalars(sa.select(table.primary_key.columns.values()[0]).where(table.c.person_id == dana))
                )
                exported = {r[table.primary_key.columns.values()[0].name] for r in doc["tables"][table.name]}
                assert ids <= exported, table.name
            p = meta.tables["interaction_participants"]
            on = set(
                conn.scalars(
                    sa.select(p.c.interaction_id).where(sa.or_(p.c.person_id == dana, p.c.address == DANA.email))
                )
            )
            assert on and on == {r["id"] for r in doc["tables"]["interactions"]}
            links = meta.tables["item_links"]
            theirs = set(
                conn.scalars(sa.select(links.c.id).where(links.c.entity_type == "person", links.c.entity_id == dana))
            )
            assert len(theirs) == 3 and theirs == {r["id"] for r in doc["tables"]["item_links"]}
    finally:
        engine.dispose()
    assert [r["address"] for r in doc["tables"]["email_addresses"]] == [DANA.email]
    assert any(c["name"] == "Fabrikam" for c in doc["classification"])
    audited = {e["subject"] for e in doc["audit"]}
    assert {f"link:{i}" for i in theirs} <= audited  # the categories relsync wrote on her contacts


def test_an_erasure_killed_at_random_points_then_rerun_ends_in_the_same_state(env: Env, tmp_path: Path) -> None:
    assert env.run("run-once").exit_code in (0, 1)
    # Exchange answers each category write slowly, so kills land before, during and after the writes.
    env.fake.faults.add("slow_reply", operation="UpdateItem", times=None, delay_ms=400)
    rng = random.Random(20)
    command = [sys.executable, "-m", "scheduler.cli", "--config", str(env.config), "privacy", "erase", DANA.email]
    for attempt in range(4):
        log = (tmp_path / f"kill{attempt}.log").open("w")
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT)}
        )
        time.sleep(rng.uniform(0.5, 4.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        log.close()
    env.fake.faults.clear()
    final = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert final.returncode == 0, final.stderr
    assert json.loads(final.stdout)["suppressed"] is True
    assert env.texts_naming(NEEDLES) == []
    assert env.contacts_of_dana() == {ALICE.email: (OWN,), BOB.email: (), CAROL.email: ()}
    assert not any("Dana" in s for s in env.task_subjects())
    assert sql(env, "SELECT count(*) FROM erasures WHERE finished_at IS NOT NULL") == 1
    assert env.run("audit", "verify").exit_code == 0


def test_an_address_suppressed_up_front_is_never_stored(env: Env) -> None:
    result = env.run("privacy", "suppress", DANA.email)
    assert result.exit_code == 0 and "suppressed" in result.output
    assert DANA.email not in str(sql(env, "SELECT group_concat(address_hash) FROM suppressions"))
    assert env.run("run-once").exit_code in (0, 1)
    assert env.texts_naming(NEEDLES) == []
    assert env.texts_naming(("erin@northwind.example",))  # the others are stored as usual


def test_audit_list_export_and_a_tampered_log_through_the_cli(
    env: Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert env.run("run-once").exit_code in (0, 1)
    lines = env.run("audit", "list", "--json", "--kind", "exchange_write").output.splitlines()
    listed = [json.loads(line) for line in lines]
    assert listed and {e["kind"] for e in listed} == {"exchange_write"}
    assert {"categories", "task_create", "master_categories"} <= {e["action"] for e in listed}
    assert env.run("audit", "list", "--since", "2999-01-01").output == ""
    out = tmp_path / "siem.jsonl"
    assert env.run("audit", "export", str(out)).exit_code == 0
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [e["seq"] for e in exported] == list(range(1, len(exported) + 1))
    assert all(len(e["hash"]) == 64 for e in exported)

    sql(env, "UPDATE audit_log SET outcome = 'failed' WHERE seq = 2")
    code, err = refused(env, capsys, "audit", "verify")
    assert code == 1 and "audit entry 2 was changed" in err


def test_erasing_an_organisation_covers_its_people(env: Env) -> None:
    assert env.run("run-once").exit_code in (0, 1)
    org = sql(env, "SELECT id FROM organisations WHERE name = 'Fabrikam'")
    result = env.run("privacy", "erase", f"org:{org}")
    assert result.exit_code == 0, result.output
    receipt = json.loads(result.output)
    assert receipt["store"]["organisations"] == 1 and receipt["store"]["people"] == 1
    assert env.texts_naming((*NEEDLES, "fabrikam")) == []
    assert env.contacts_of_dana() == {ALICE.email: (OWN,), BOB.email: (), CAROL.email: ()}
    assert env.texts_naming(("erin@northwind.example",))  # another organisation's people stay
    assert env.run("audit", "verify").exit_code == 0
