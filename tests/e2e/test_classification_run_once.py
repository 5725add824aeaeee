"""Classification end to end: import sales history, `relsync run-once`, categories in the fake Exchange.

Everything runs for real: the CLI, the fake Exchange on loopback (every response validated against
the EWS schema), exchangelib over HTTP, sync, identity, classification and the batched write-back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from exchangelib.protocol import close_connections
from lxml import etree

import scheduler.jobs
from connector.fake.ews.server import FakeExchange
from scheduler.cli import cli, main, write_fake_config
from tests.e2e.syncenv import ALICE, BOB, DANA, ERIN, GINA, HandCompany, contact

SALES = """date,customer,amount,currency,kind,product
2026-10-01,dana@fabrikam.example,9000.00,EUR,order,Turbines
2026-10-15,dana@fabrikam.example,500.00,EUR,return,Turbines
2026-10-20,erin@northwind.example,1200.00,EUR,order,Spares
"""

# Fabrikam nets 8,500 and Northwind 1,200: ranked among the two, 100 % and 50 %. Gina (a freemail
# person of her own) has no sales: 0 %. Nobody mailed: potential Low everywhere.
DANA_WANTED = {"Customer", "Value: Superior", "Potential: Low"}
ERIN_WANTED = {"Customer", "Value: Average", "Potential: Low"}
GINA_WANTED = {"Lead", "Value: Eliminate", "Potential: Low"}
MANAGED_PREFIXES = ("Value: ", "Potential: ")
TYPES = {"Lead", "Prospect", "Customer", "Sales partner", "Vendor"}


def company() -> HandCompany:
    return HandCompany(
        items={
            (ALICE.email, "contacts"): [
                contact(1, "Dana Dunn", DANA.email, Categories=("VIP",)),
                contact(2, "Erin Estrada", ERIN.email),
                contact(3, "Gina Gmail", GINA.email, Categories=("Golf", "Customer")),
            ],
            (BOB.email, "contacts"): [
                contact(4, "Dana Dunn", DANA.email, Categories=("Lunch club",)),
                contact(5, "Erin Estrada", ERIN.email),
            ],
        }
    )


class Env:
    def __init__(self, fake: FakeExchange, config: Path, tmp: Path) -> None:
        self.fake, self.config, self.tmp = fake, config, tmp

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(self.config), *args], catch_exceptions=False)

    def run_once(self) -> None:
        result = self.run("run-once", "--json")
        assert result.exit_code == 0, result.output

    def split(self, owner: str) -> dict[str, tuple[tuple[str, ...], set[str]]]:
        """Contact name -> (the user's own categories in order, the managed ones)."""
        out: dict[str, tuple[tuple[str, ...], set[str]]] = {}
        for name, cats in self.categories(owner).items():
            managed = {c for c in cats if c in TYPES or c.startswith(MANAGED_PREFIXES)}
            out[name] = (tuple(c for c in cats if c not in managed), managed)
        return out

    def categories(self, owner: str) -> dict[str, tuple[str, ...]]:
        return {
            str(spec.fields["DisplayName"]): tuple(spec.fields.get("Categories") or ())
            for _, spec in self.fake.mailboxes[owner].items("contacts")
        }

    def item_id(self, owner: str, name: str) -> str:
        return next(i for i, s in self.fake.mailboxes[owner].items("contacts") if s.fields["DisplayName"] == name)

    def updates(self) -> int:
        ops: dict[str, Any] = self.fake.stats.to_json()["operations"]
        return int(ops.get("UpdateItem", 0))


@pytest.fixture
def env(tmp_path: Path, ews_schema: etree.XMLSchema, db_url: str) -> Iterator[Env]:
    """The fake with ``company()``, a config for it, and a migrated store (SQLite, then PostgreSQL)."""
    with FakeExchange(company(), validate=ews_schema) as fake:
        config = tmp_path / "relsync.toml"
        write_fake_config(config, fake.url, fake.username, fake.password, [ALICE.email, BOB.email], "contoso.example")
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace('url = "sqlite:///relsync.db"', f'url = "{db_url}"', 1), encoding="utf-8")
        assert f'url = "{db_url}"' in config.read_text(encoding="utf-8")
        e = Env(fake, config, tmp_path)
        assert e.run("db", "upgrade").exit_code == 0
        sales = tmp_path / "sales.csv"
        sales.write_text(SALES, encoding="utf-8")
        yield e
        close_connections()
    assert fake.violations == []


def import_sales(env: Env) -> None:
    result = env.run("import", "transactions", str(env.tmp / "sales.csv"), "--json")
    assert result.exit_code == 0, result.output


def classified(env: Env) -> None:
    env.run_once()  # the store learns the customers ...
    import_sales(env)  # ... the sales history is matched to them ...
    env.run_once()  # ... and the next run classifies and writes back


def test_run_once_puts_the_right_categories_on_every_contact_and_then_writes_nothing(env: Env) -> None:
    classified(env)
    assert env.split(ALICE.email) == {
        "Dana Dunn": (("VIP",), DANA_WANTED),
        "Erin Estrada": ((), ERIN_WANTED),
        "Gina Gmail": (("Golf",), GINA_WANTED),  # a stale "Customer" from before relsync is replaced
    }
    assert env.split(BOB.email) == {"Dana Dunn": (("Lunch club",), DANA_WANTED), "Erin Estrada": ((), ERIN_WANTED)}
    # Master category lists: the managed categories with their colours, once per mailbox.
    ops = env.fake.stats.to_json()["operations"]
    assert ops.get("UpdateUserConfiguration", 0) + ops.get("CreateUserConfiguration", 0) == 2

    before = env.updates()
    env.run_once()  # our own writes come back through sync: nothing to write
    env.run_once()
    assert env.updates() == before

    rows = [json.loads(line) for line in env.run("export", "relationships").output.splitlines()]
    by_name = {r["name"]: r for r in rows}
    assert by_name["Fabrikam"]["type"] == "customer" and by_name["Fabrikam"]["tier"] == "Superior"
    assert by_name["Fabrikam"]["value_percent"] == 100 and by_name["Northwind"]["value_percent"] == 50
    assert by_name["Fabrikam"]["latest_transaction_on"] == "2026-10-15"  # its return
    csv_out = env.run("export", "relationships", "--format", "csv").output
    assert csv_out.splitlines()[0].startswith("id,name,kind,type,status,value_percent,tier,potential,owner")

    shown = env.run("explain", DANA.email, "--json")
    assert shown.exit_code == 0, shown.output
    (explained,) = json.loads(shown.output)
    assert explained["name"] == "Fabrikam" and explained["result"]["tier"] == "Superior"
    assert explained["net_revenue"] == "8500.00" and explained["inputs"]["order_count"] == 1
    text = env.run("explain", "fabrikam").output
    assert "Fabrikam (organization" in text and "rules fired: none" in text
    assert env.run("explain", "nobody@nowhere.example").exit_code == 1


def test_a_staff_override_in_outlook_survives_reclassification_until_removed(env: Env) -> None:
    classified(env)
    erin = env.item_id(ALICE.email, "Erin Estrada")
    # Staff know better: Northwind is a Superior relationship, whatever the numbers say.
    env.fake.mailboxes[ALICE.email].update(erin, Categories=("Customer", "Value: Superior", "Potential: Low"))
    env.run_once()
    superior = {"Customer", "Value: Superior", "Potential: Low"}
    assert env.split(ALICE.email)["Erin Estrada"] == ((), superior)
    assert env.split(BOB.email)["Erin Estrada"] == ((), superior)  # the relationship's, in every mailbox
    (explained,) = json.loads(env.run("explain", ERIN.email, "--json").output)
    assert explained["overridden"] == ["tier"]
    assert [(o["dimension"], o["value"], o["removed_at"]) for o in explained["overrides"]] == [
        ("tier", "Superior", None)
    ]

    # A reclassification (more sales: Northwind still ranks below Fabrikam) keeps the override.
    (env.tmp / "more.csv").write_text(
        "date,customer,amount,currency,kind\n2026-11-01,erin@northwind.example,100.00,EUR,order\n", encoding="utf-8"
    )
    assert env.run("import", "transactions", str(env.tmp / "more.csv")).exit_code == 0
    before = env.updates()
    env.run_once()
    assert env.split(ALICE.email)["Erin Estrada"] == ((), superior)
    assert env.split(BOB.email)["Erin Estrada"] == ((), superior)
    assert env.updates() == before  # and nothing was rewritten

    # Staff take it off again (on Bob's copy): the override ends, the computed tier comes back.
    bob_erin = env.item_id(BOB.email, "Erin Estrada")
    env.fake.mailboxes[BOB.email].update(bob_erin, Categories=("Customer", "Potential: Low"))
    env.run_once()
    assert env.split(ALICE.email)["Erin Estrada"] == ((), ERIN_WANTED)
    assert env.split(BOB.email)["Erin Estrada"] == ((), ERIN_WANTED)
    (explained,) = json.loads(env.run("explain", ERIN.email, "--json").output)
    assert explained["overridden"] == [] and explained["overrides"][0]["removed_at"] is not None


def test_a_concurrent_edit_is_merged_not_lost(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    env.run_once()
    import_sales(env)
    dana = env.item_id(ALICE.email, "Dana Dunn")
    original = scheduler.jobs.mark_possible_duplicates

    def staff_edit_after_sync(*args: Any, **kwargs: Any) -> tuple[int, int]:
        # Lands after this run's sync and before its write-back: the ChangeKey we hold is stale.
        env.fake.mailboxes[ALICE.email].update(
            dana, Categories=("VIP", "Board", "Lead", "Value: Eliminate", "Potential: Low")
        )
        return original(*args, **kwargs)

    monkeypatch.setattr(scheduler.jobs, "mark_possible_duplicates", staff_edit_after_sync)
    conflict = env.fake.faults.add("conflict", operation="UpdateItem", mailbox=BOB.email, times=1)
    env.run_once()
    assert conflict.hits == 1  # Bob's batch met a conflict too: re-read, re-merged, written
    monkeypatch.setattr(scheduler.jobs, "mark_possible_duplicates", original)
    assert env.split(ALICE.email)["Dana Dunn"] == (("VIP", "Board"), DANA_WANTED)
    assert env.split(BOB.email)["Dana Dunn"] == (("Lunch club",), DANA_WANTED)
    assert env.split(BOB.email)["Erin Estrada"] == ((), ERIN_WANTED)
    before = env.updates()
    env.run_once()
    assert env.updates() == before


def test_a_bad_rule_is_rejected_at_start_up_with_its_line(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    with env.config.open("a") as f:
        f.write(
            '\n[[rules]]\nname = "gov"\nwhen = \'industry == "Government"\'\nset = { potential = "High" }\n'
            '\n[[rules]]\nname = "typo"\nwhen = \'tier == "Average" and indstry == "x"\'\n'
            'set = { tier = "Superior" }\n'
        )
    lines = env.config.read_text(encoding="utf-8").splitlines()
    typo_line = max(i for i, line in enumerate(lines, start=1) if line == "[[rules]]")
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(env.config), "run-once"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"rules[1] 'typo' (line {typo_line}): unknown field 'indstry'" in err and "Fix:" in err
    assert "'gov'" not in err
    assert env.updates() == 0  # nothing ran


def test_user_defined_fields_on_an_outlook_contact_feed_the_classification(env: Env) -> None:
    from connector.fake.model import ExtendedProp

    dana = env.item_id(ALICE.email, "Dana Dunn")
    env.fake.mailboxes[ALICE.email].update(
        dana,
        ExtendedProperty=(
            ExtendedProp("String", "Aerospace", distinguished_set_id="PublicStrings", property_name="Industry"),
            ExtendedProp("String", "Trade fair", distinguished_set_id="PublicStrings", property_name="Source"),
        ),
    )
    classified(env)
    result = env.run("explain", DANA.email, "--json")
    assert result.exit_code == 0, result.output
    inputs = json.loads(result.output)[0]["inputs"]  # one match: Dana
    assert inputs["industry"] == "Aerospace" and inputs["source"] == "Trade fair"
