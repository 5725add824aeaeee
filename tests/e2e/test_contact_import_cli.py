"""`relsync import contacts` end to end: exports in each product's layout into a store holding the synced
demo company; counts match what was planted; a second import changes nothing; undo restores the store.

The sample exports are written here from each profile's documented column names (no vendor data).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from lxml import etree
from openpyxl import Workbook

from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from mapping.contact_import.profiles import PROFILES
from scheduler.cli import cli, write_fake_config

#: Canonical rows: 3 merges into synced people, 1 doubtful (review), 4 new people (one of them twice,
#: merged within the file) at 2 new organisations, and 2 rows naming nobody (refused).
PLANTED: list[dict[str, str]] = [
    {
        "given_name": "DANA",
        "surname": "WHITFIELD",
        "email": "Dana.Whitfield@IBM.example",
        "company": "IBM",
        "job_title": "Chief Information Officer",
        "source": "Trade fair",
    },
    {
        "given_name": "Raj",
        "surname": "Patel",
        "email": "raj.patel@ibm.example",
        "company": "IBM",
        "mobile": "(415) 555-0134",
        "source": "Referral",
    },
    {
        "given_name": "bethany",
        "surname": "brooks",
        "email": "bethany.brooks@harbourview-example.co.uk",
        "company": "Harbourview Ltd.",
        "job_title": "Harbour Operations Lead",
        "street": "12 Quay Street",
        "city": "Bristol",
        "postcode": "BS1 4DJ",
        "country": "United Kingdom",
    },
    {"given_name": "Kerri", "surname": "Becker", "email": "kerribecker77@gmail.com"},
    {
        "given_name": "Quillon",
        "surname": "Varga",
        "email": "quillon.varga@zephyr-widgets.example",
        "company": "Zephyr Widgets Ltd",
        "phone": "+44 20 7946 0321",
        "source": "Web",
    },
    {
        "given_name": "Ysolde",
        "surname": "Marchetti",
        "email": "ysolde.marchetti@ravenmoor.example",
        "company": "Ravenmoor Instruments GmbH",
        "job_title": "Einkauf",
    },
    {"given_name": "", "surname": "", "email": "", "company": "Nameless Corp"},
    {"given_name": "Thaddeus", "surname": "Okonkwo-Lind", "email": "thaddeus.okonkwo.lind@gmail.com"},
    {
        "given_name": "BRUNHILDE",
        "surname": "SAKAMOTO",
        "email": "b.sakamoto@ravenmoor.example",
        "company": "RAVENMOOR INSTRUMENTS GMBH",
    },
    {"given_name": "", "surname": "", "email": "", "phone": "555 0199"},
    {
        "given_name": "Quillon",
        "surname": "Varga",
        "email": "QUILLON.VARGA@zephyr-widgets.example",
        "mobile": "+44 7700 900123",
    },
]
EXPECTED = {
    "rows_read": 11,
    "rows_refused": 2,
    "people_to_create": 5,
    "rows_merged_into_existing": 3,
    "people_changed": 3,
    "rows_merged_within_file": 1,
    "people_to_review": 1,
    "organisations_to_create": 2,
    "organisations_merged": 2,
}
_GENERIC_HEADERS = {
    "full_name": "Name",
    "email": "Email",
    "phone": "Phone",
    "mobile": "Mobile",
    "company": "Company",
    "job_title": "Job Title",
    "street": "Street",
    "city": "City",
    "postcode": "Postcode",
    "country": "Country",
    "source": "Lead Source",
}


def layout(profile: str) -> dict[str, str]:
    """Canonical field -> the column header this profile's product writes for it."""
    out: dict[str, str] = {}
    for header, field in PROFILES[profile].items():
        out.setdefault(field, header)
    if profile == "generic":
        out = dict(_GENERIC_HEADERS)
    if "given_name" in out and "surname" in out:
        out.pop("full_name", None)
    return out


def export_rows(profile: str) -> tuple[list[str], list[list[str]]]:
    columns = layout(profile)
    headers = [*columns.values(), "Favourite Colour"]
    rows = []
    for planted in PLANTED:
        cells = dict(planted)
        cells["full_name"] = f"{planted['surname']}, {planted['given_name']}" if planted["surname"] else ""
        rows.append([cells.get(field, "") for field in columns] + ["teal"])
    return headers, rows


def write_csv(path: Path, profile: str, delimiter: str = ",") -> Path:
    import csv

    headers, rows = export_rows(profile)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, profile: str) -> Path:
    headers, rows = export_rows(profile)
    book = Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Read me"
    notes.append(["exported for the test"])
    sheet = book.create_sheet("Contacts")
    sheet.append(headers)
    for r in rows:
        sheet.append(r)
    book.save(path)
    return path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, ews_schema: etree.XMLSchema) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("contacts")
    company = build_company(7, 2, "tiny")
    with FakeExchange(company, validate=ews_schema) as fake:
        config = tmp / "relsync.toml"
        write_fake_config(
            config, fake.url, fake.username, fake.password, [m.email for m in company.mailboxes()], company.domain
        )
        with config.open("a") as f:
            f.write('\n[import]\nprecedence = { job_title = "take" }\n')
        env = {"config": str(config), "tmp": tmp}
        assert run(env, "db", "upgrade").exit_code == 0
        assert run(env, "resync").exit_code == 0
        yield env
    assert fake.violations == []


def run(env: dict[str, Any], *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", env["config"], *args], catch_exceptions=False)


def run_main(env: dict[str, Any], capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Through the entry point, where errors become one sentence and an exit code: (code, stderr)."""
    from scheduler.cli.main import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["--config", env["config"], *args])
    return int(exited.value.code or 0), capsys.readouterr().err


def report(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.output)
    return data


def store_dump(env: dict[str, Any]) -> dict[str, Any]:
    """Every row of the tables an import touches, plus `relsync export` of people and organizations."""
    from scheduler.config import load_config

    url = load_config(Path(env["config"])).config.store.url
    engine = sa.create_engine(url)
    out: dict[str, Any] = {}
    try:
        with engine.connect() as conn:
            for table in (
                "people",
                "organisations",
                "email_addresses",
                "phones",
                "postal_addresses",
                "match_candidates",
                "relationships",
            ):
                out[table] = [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")]
    finally:
        engine.dispose()
    for what in ("people", "organizations"):
        result = run(env, "export", what)
        assert result.exit_code == 0
        out[f"export {what}"] = result.output
    return out


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_each_profile_layout_dry_runs_to_the_planted_counts(env: dict[str, Any], profile: str) -> None:
    path = write_csv(env["tmp"] / f"{profile}.csv", profile, delimiter=";" if profile == "act" else ",")
    result = run(env, "import", "contacts", str(path), "--profile", profile, "--json")
    assert result.exit_code == 1  # rows were refused
    got = report(result)
    assert got["dry_run"] is True and got["batch"] is None
    assert {k: got[k] for k in EXPECTED} == EXPECTED, (profile, [(m["changes"], m["added"]) for m in got["merge"]])
    assert got["unknown_columns"] == ["Favourite Colour"]
    assert [(r["line"], r["reason"].split(" (")[0]) for r in got["refused"]] == [
        (8, "no name and no e-mail address"),
        (11, "no name and no e-mail address"),
    ]
    assert {m["name"] for m in got["merge"]} == {"Dana Whitfield", "Raj Patel", "Bethany Brooks"}
    assert [r["name"] for r in got["review"]] == ["Kerri Becker"]
    assert sorted(o["name"] for o in got["organisations"]["create"]) == [
        "Ravenmoor Instruments GmbH",
        "Zephyr Widgets Ltd",
    ]


def test_xlsx_with_a_sheet_picked_dry_runs_the_same(env: dict[str, Any]) -> None:
    path = write_xlsx(env["tmp"] / "salesforce.xlsx", "salesforce")
    got = report(run(env, "import", "contacts", str(path), "--profile", "salesforce", "--sheet", "Contacts", "--json"))
    assert {k: got[k] for k in EXPECTED} == EXPECTED
    assert any("2 sheets" in n for n in got["notes"])


def test_import_then_again_then_undo_restores_the_store_exactly(
    env: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(env["tmp"] / "outlook-real.csv", "outlook")
    before = store_dump(env)
    first = run(env, "import", "contacts", str(path), "--profile", "outlook")
    assert "dry run (nothing written)" in first.output and "refused: line 8: no name and no e-mail" in first.output
    assert store_dump(env) == before

    applied = report(run(env, "import", "contacts", str(path), "--profile", "outlook", "--apply", "--json"))
    batch = applied["batch"]
    assert batch is not None and {k: applied[k] for k in EXPECTED} == EXPECTED
    after = store_dump(env)
    assert len(after["people"]) == len(before["people"]) + 5
    people = {json.loads(line)["display_name"]: json.loads(line) for line in after["export people"].splitlines()}
    # [import] precedence job_title = "take"
    assert people["Dana Whitfield"]["job_title"] == "Chief Information Officer"
    assert "+14155550134" in people["Raj Patel"]["phones"]
    assert people["Brunhilde Sakamoto"]["organization"] == people["Ysolde Marchetti"]["organization"]
    queue = json.loads(run(env, "duplicates", "list", "--json").output)
    assert any({"Kerri Becker"} == {q["a"]["name"], q["b"]["name"]} for q in queue)

    again = run(env, "import", "contacts", str(path), "--profile", "outlook")
    assert "nothing to change" in again.output
    assert store_dump(env) == after

    undone = run(env, "import", "undo", str(batch))
    assert undone.exit_code == 0, undone.output
    assert store_dump(env) == before
    code, err = run_main(env, capsys, "import", "undo", str(batch))
    assert code == 2 and f"relsync: import undo: batch {batch} was already undone" in err


def test_undo_says_which_later_change_depends_on_the_batch(
    env: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from scheduler.config import load_config

    path = write_csv(env["tmp"] / "generic-later.csv", "generic")
    applied = report(run(env, "import", "contacts", str(path), "--apply", "--json"))
    url = load_config(Path(env["config"])).config.store.url
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE people SET job_title = 'Chief Everything' WHERE display_name = 'Dana Whitfield'"
            )
            dana = conn.exec_driver_sql("SELECT id FROM people WHERE display_name = 'Dana Whitfield'").scalar()
    finally:
        engine.dispose()
    code, err = run_main(env, capsys, "import", "undo", str(applied["batch"]))
    assert code == 2
    assert f"cannot be undone: people #{dana} (Dana Whitfield): job_title changed again since the import" in err
    assert "Traceback" not in err
