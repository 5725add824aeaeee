"""Importing sales history: matching through identity resolution, idempotence, facts, and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.orm import Session

from mapping.hygiene import normalise_company_name
from mapping.sales_history import parse_sales_history
from mapping.store.facts import ensure_relationships, load_facts
from mapping.store.models import (
    CategoryDimension,
    CategoryOverride,
    Direction,
    EmailAddress,
    Interaction,
    InteractionKind,
    InteractionParticipant,
    Organisation,
    OrganisationDomain,
    ParticipantRole,
    Person,
    Relationship,
    Transaction,
    TransactionKind,
)
from mapping.store.sales_history import ImportResult, import_sales_history, rematch_unmatched
from mapping.store.store import Store
from scheduler.cli import cli, write_fake_config

HEADER = "date,customer,amount,currency,kind,product,external_id\n"


def _org(name: str, *domains: str, **extra: object) -> Organisation:
    return Organisation(
        name=name,
        normalised_name=normalise_company_name(name),
        domains=[OrganisationDomain(domain=d) for d in domains],
        **extra,
    )


def _person(name: str, email: str, org: Organisation | None) -> Person:
    return Person(display_name=name, organisation=org, emails=[EmailAddress(address=email, original=email)])


@pytest.fixture
def ids(store: Store) -> dict[str, int]:
    """Acme (acme.com) with Jane, IBM, Northwind, and Sole Trader without organisation."""
    with store.session() as s:
        acme = _org("Acme Corporation", "acme.com", industry="Manufacturing", size="50-249", country="DE")
        ibm = _org("International Business Machines, Inc.", "ibm.com")
        northwind = _org("Northwind Traders GmbH")
        jane = _person("Jane Roe", "jane@acme.com", acme)
        solo = _person("Sole Trader", "solo@gmail.com", None)
        s.add_all([acme, ibm, northwind, jane, solo])
        s.flush()
        return {"acme": acme.id, "ibm": ibm.id, "northwind": northwind.id, "jane": jane.id, "solo": solo.id}


def _import(store: Store, text: str, name: str = "sales.csv") -> ImportResult:
    parsed = parse_sales_history(text)
    assert parsed.errors == []
    with store.session() as s:
        return import_sales_history(s, parsed.rows, name)


def _rows(store: Store) -> list[Transaction]:
    with store.session() as s:
        return list(s.scalars(sa.select(Transaction).order_by(Transaction.source_line)))


def test_customers_match_by_email_domain_name_and_fuzzy_name(store: Store, ids: dict[str, int]) -> None:
    result = _import(
        store,
        HEADER
        + "2026-01-05,Jane@Acme.com,100,EUR,order,Widgets,\n"  # 2 person (and her org)
        + "2026-01-06,www.acme.com,50,EUR,order,,\n"  # 3 domain
        + "2026-01-07,bob@sales.acme.com,25,EUR,order,,\n"  # 4 unknown person, company domain
        + "2026-01-08,ACME Corp.,10,EUR,return,,\n"  # 5 normalised name
        + "2026-01-09,IBM,70,USD,order,,\n"  # 6 fuzzy (acronym) -> merge
        + "2026-01-10,Internatonal Business Machines,30,USD,order,,\n"  # 7 fuzzy (typo)
        + "2026-01-11,solo@gmail.com,5,EUR,order,,\n"  # 8 person without organisation
        + "2026-01-12,Nortwind Traders,9,EUR,order,,\n"  # 9 only "review": not accepted
        + "2026-01-13,stranger@gmail.com,9,EUR,order,,\n"  # 10 free mail, unknown
        + "2026-01-14,C-1042,9,EUR,order,,\n",
    )  # 11 an unknown external id
    got = {(t.source_line): (t.organisation_id, t.person_id, t.matched_by) for t in _rows(store)}
    acme, ibm = ids["acme"], ids["ibm"]
    assert got[2] == (acme, ids["jane"], "email")
    assert got[3] == (acme, None, "domain")
    assert got[4] == (acme, None, "email_domain")
    assert got[5] == (acme, None, "name")
    assert got[6] == (ibm, None, "fuzzy") and got[7] == (ibm, None, "fuzzy")
    assert got[8] == (None, ids["solo"], "email")
    assert got[9] == got[10] == got[11] == (None, None, None)  # stored, not lost
    assert [(u.line, u.customer) for u in result.unmatched] == [
        (9, "Nortwind Traders"),
        (10, "stranger@gmail.com"),
        (11, "C-1042"),
    ]
    assert result.imported == 10 and result.duplicates == 0
    amounts = {t.source_line: (t.amount, t.currency, t.kind) for t in _rows(store)}
    assert amounts[5] == (Decimal("10.00"), "EUR", TransactionKind.RETURN)


def test_reimporting_the_same_file_adds_nothing(store: Store, ids: dict[str, int]) -> None:
    text = HEADER + "2026-01-05,jane@acme.com,100,EUR,order,,\n" * 2 + "2026-01-06,acme.com,1,EUR,order,,\n"
    first = _import(store, text)
    again = _import(store, text, name="sales-copy.csv")
    assert (first.imported, first.duplicates) == (3, 0)
    assert (again.imported, again.duplicates) == (0, 3)
    # A later export with the old rows and one new one adds just the new one.
    later = _import(store, text + "2026-02-01,acme.com,7,EUR,order,,\n")
    assert (later.imported, later.duplicates) == (1, 3)
    assert len(_rows(store)) == 4


def test_an_external_id_matches_through_an_earlier_transaction(store: Store, ids: dict[str, int]) -> None:
    _import(store, HEADER + "2026-01-05,C-1042,9,EUR,order,,\n")
    with store.session() as s:  # staff attach it by hand (or a later rule did)
        s.execute(sa.update(Transaction).values(organisation_id=ids["northwind"], matched_by="manual"))
    result = _import(store, HEADER + "2026-02-05,c-1042,9,EUR,order,,\n")
    assert result.unmatched == []
    assert [(t.organisation_id, t.matched_by) for t in _rows(store)][-1] == (ids["northwind"], "previous")


def test_unmatched_rows_match_once_the_store_knows_the_customer(store: Store, ids: dict[str, int]) -> None:
    _import(store, HEADER + "2026-01-05,kim@globex.com,9,EUR,order,,\n2026-01-06,Globex,1,EUR,order,,\n")
    with store.session() as s:
        globex = _org("Globex", "globex.com")
        s.add(globex)
        s.flush()
        globex_id = globex.id
        assert rematch_unmatched(s) == 2
    assert {(t.organisation_id, t.matched_by) for t in _rows(store)} == {
        (globex_id, "email_domain"),
        (globex_id, "name"),
    }


def test_merged_organisations_are_followed_to_the_survivor(store: Store, ids: dict[str, int]) -> None:
    with store.session() as s:
        old = _org("Acme Old Name", "acme-old.com")
        s.add(old)
        s.flush()
        old.merged_into_id = ids["acme"]
    _import(store, HEADER + "2026-01-05,acme-old.com,9,EUR,order,,\n")
    assert _rows(store)[0].organisation_id == ids["acme"]


def test_ensure_relationships_creates_one_per_organisation_and_lone_person(store: Store, ids: dict[str, int]) -> None:
    with store.session() as s:
        assert ensure_relationships(s) == 4  # three organisations, one person without organisation
        assert ensure_relationships(s) == 0
        rows = {(o, p) for o, p in s.execute(sa.select(Relationship.organisation_id, Relationship.person_id))}
    assert rows == {(ids["acme"], None), (ids["ibm"], None), (ids["northwind"], None), (None, ids["solo"])}


def test_a_relationship_has_exactly_one_subject(store: Store, ids: dict[str, int]) -> None:
    with pytest.raises(sa.exc.IntegrityError), store.session() as s:
        s.add(Relationship(organisation_id=ids["acme"], person_id=ids["solo"]))


def _interaction(s: Session, at: datetime, kind: InteractionKind, direction: Direction, *people: int) -> None:
    interaction = Interaction(
        kind=kind,
        occurred_at=at,
        direction=direction,
        participants=[
            InteractionParticipant(person_id=p, address=f"p{p}@x.example", role=ParticipantRole.TO) for p in people
        ],
    )
    s.add(interaction)


def test_facts_sum_money_by_kind_and_count_interactions_per_window(store: Store, ids: dict[str, int]) -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    _import(
        store,
        HEADER
        + "2026-05-01,jane@acme.com,1000,EUR,order,Widgets,\n"
        + "2026-05-02,acme.com,200,EUR,return,,\n"
        + "2026-05-03,acme.com,50,EUR,referral credit,,\n"
        + "2024-01-01,acme.com,999,EUR,order,Gadgets,\n"  # outside the value period
        + "2026-05-04,acme.com,70,USD,order,,\n"  # another currency
        + "2026-04-01,solo@gmail.com,5,EUR,order,,\n",
    )
    with store.session() as s:
        colleague = _person("Max Roe", "max@acme.com", s.get_one(Organisation, ids["acme"]))
        s.add(colleague)
        s.flush()
        jane, solo = ids["jane"], ids["solo"]
        # One e-mail to two Acme people counts once for Acme.
        _interaction(s, now - timedelta(days=3), InteractionKind.EMAIL, Direction.INBOUND, jane, colleague.id)
        _interaction(s, now - timedelta(days=10), InteractionKind.EMAIL, Direction.OUTBOUND, jane)
        _interaction(s, now - timedelta(days=20), InteractionKind.MEETING, Direction.OUTBOUND, jane)
        _interaction(s, now - timedelta(days=100), InteractionKind.EMAIL, Direction.INBOUND, jane)
        _interaction(s, now - timedelta(days=400), InteractionKind.EMAIL, Direction.OUTBOUND, jane)
        _interaction(s, now - timedelta(days=1), InteractionKind.EMAIL, Direction.INTERNAL, jane)  # ignored
        _interaction(s, now + timedelta(days=5), InteractionKind.MEETING, Direction.OUTBOUND, jane)  # future
        _interaction(s, now - timedelta(days=2), InteractionKind.EMAIL, Direction.INBOUND, solo)
        ensure_relationships(s)
        acme_rel = s.scalars(sa.select(Relationship.id).where(Relationship.organisation_id == ids["acme"])).one()
    box = store.ensure_mailbox("ann@corp.example", "Ann")
    with store.session() as s:
        s.add(
            CategoryOverride(
                relationship_id=acme_rel, dimension=CategoryDimension.TIER, value="Superior", mailbox_id=box.id
            )
        )
        s.add(
            CategoryOverride(
                relationship_id=acme_rel,
                dimension=CategoryDimension.TYPE,
                value="vendor",
                mailbox_id=box.id,
                removed_at=now,
            )
        )
        facts = {f.id: f for f in load_facts(s, now=now, value_period_days=365, window_days=90, currency="EUR")}
    acme = facts[str(acme_rel)]
    assert acme.kind == "organization" and acme.name == "Acme Corporation"
    assert (acme.orders, acme.returns, acme.referral_credits) == (
        Decimal("1000.00"),
        Decimal("200.00"),
        Decimal("50.00"),
    )
    assert acme.net_revenue == Decimal("850.00")
    assert (acme.transaction_count, acme.order_count, acme.referrals_made) == (5, 3, 1)
    assert acme.latest_transaction_at == datetime(2026, 5, 4, tzinfo=UTC)
    assert acme.first_contact_at == datetime(2024, 1, 1, tzinfo=UTC)  # the 2024 order predates every mail
    assert acme.latest_interaction_at == now - timedelta(days=3)
    assert acme.latest_inbound_at == now - timedelta(days=3)
    assert (acme.inbound_recent, acme.outbound_recent, acme.meetings_recent) == (1, 1, 1)
    assert (acme.inbound_previous, acme.outbound_previous, acme.meetings_previous) == (1, 0, 0)
    assert (acme.industry, acme.size, acme.geography) == ("Manufacturing", "50-249", "DE")
    assert acme.products == ("Gadgets", "Widgets")
    assert acme.overrides == {"tier": "Superior"}
    solo_facts = next(f for f in facts.values() if f.kind == "person")
    assert (solo_facts.name, solo_facts.orders, solo_facts.inbound_recent) == ("Sole Trader", Decimal("5.00"), 1)
    ibm = next(f for f in facts.values() if f.name.startswith("International"))
    assert (ibm.orders, ibm.transaction_count, ibm.latest_interaction_at) == (Decimal("0.00"), 0, None)


def test_facts_for_many_relationships_load_in_few_queries(store: Store) -> None:
    with store.session() as s:
        s.execute(sa.insert(Organisation), [{"name": f"Org {i}", "normalised_name": f"org {i}"} for i in range(2000)])
        assert ensure_relationships(s) == 2000
        statements: list[str] = []
        sa.event.listen(s.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
        facts = load_facts(s)
    assert len(facts) == 2000
    assert len(statements) <= 10


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "relsync.toml"
    write_fake_config(path, "https://127.0.0.1:9/EWS/Exchange.asmx", "svc", "pw", ["ann@corp.example"], "corp.example")
    return path


def _run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_imports_reports_and_is_idempotent(config: Path, tmp_path: Path) -> None:
    assert _run(config, "db", "upgrade")[0] == 0
    store = Store(f"sqlite:///{tmp_path / 'relsync.db'}")
    try:
        with store.session() as s:
            s.add(_org("Acme Corporation", "acme.com"))
    finally:
        store.dispose()
    csv = tmp_path / "sales.csv"
    csv.write_text(
        HEADER
        + '2026-01-05,acme.com,"1,000.00",EUR,order,,\n'
        + "2026-01-06,unknown.example,5,EUR,order,,\n"
        + "2026-01-07,acme.com,$5,USD,order,,\n"
        + "2026-01-08,Acme Corp,5,EUR,Referral Credit,,\n",
        encoding="utf-8",
    )

    code, out, err = _run(config, "import", "transactions", str(csv))
    assert code == 1  # line 4 had an error; the rest imported
    assert "imported 3 transaction(s)" in out and "0 already imported" in out and "1 unmatched" in out
    assert "unmatched: line 3: unknown.example" in out
    assert "line 4, column amount: currency symbol" in err

    code, out, _ = _run(config, "import", "transactions", "--json", str(csv))
    summary = json.loads(out)
    assert code == 1
    assert (summary["imported"], summary["duplicates"]) == (0, 3)
    assert [e["line"] for e in summary["errors"]] == [4]
    assert summary["unmatched"] == []  # the unmatched row was stored before, so it is a duplicate now

    good = tmp_path / "good.csv"
    good.write_text(HEADER + "2026-02-01,acme.com,1,EUR,order,,\n", encoding="utf-8")
    code, out, _ = _run(config, "import", "transactions", "--json", str(good))
    assert code == 0 and json.loads(out)["matched_by"] == {"domain": 1}


def test_cli_wrong_columns_is_one_error(config: Path, tmp_path: Path) -> None:
    assert _run(config, "db", "upgrade")[0] == 0
    csv = tmp_path / "bad.csv"
    csv.write_text("when,who,amount\n2026-01-01,x,1\n", encoding="utf-8")
    code, out, err = _run(config, "import", "transactions", str(csv))
    assert code == 1
    assert "imported 0" in out
    assert err.count("line 1:") == 1 and "missing columns date, customer, currency, kind" in err


def test_date_column_type_round_trips(store: Store, ids: dict[str, int]) -> None:
    _import(store, HEADER + "2025-12-31,acme.com,1,EUR,order,,\n")
    assert _rows(store)[0].occurred_on == date(2025, 12, 31)


def test_facts_count_a_merged_organisations_transactions_for_the_survivor(store: Store, ids: dict[str, int]) -> None:
    _import(store, HEADER + "2026-05-01,Northwind Traders,100,EUR,order,Tea,\n2026-05-02,acme.com,10,EUR,order,,\n")
    with store.session() as s:
        s.get_one(Organisation, ids["northwind"]).merged_into_id = ids["acme"]
        ensure_relationships(s)
        facts = {f.name: f for f in load_facts(s, now=datetime(2026, 6, 1, tzinfo=UTC))}
    assert "Northwind Traders GmbH" not in facts  # merged: no relationship of its own
    assert (facts["Acme Corporation"].orders, facts["Acme Corporation"].products) == (Decimal("110.00"), ("Tea",))
