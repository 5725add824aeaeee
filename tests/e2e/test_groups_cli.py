"""``relsync groups families / confirm / unconfirm`` through the CLI's entry point: the families two
organisations share, the admin's confirmation (the group then shows in ``explain``), and a bad FAMILY or
--parent as one sentence with exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mapping.hygiene import normalise_company_name
from mapping.store.migrate import upgrade
from mapping.store.models import Organisation, OrganisationDomain, Person, Relationship, RelationshipStatus
from mapping.store.store import Store
from scheduler.cli.fake import write_fake_config
from scheduler.cli.main import main
from scheduler.config import load_config


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def relsync(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """A store with Acme Holdings (acme.com), Acme Deutschland (acme.de), Acme UK (acme.co.uk) and
    Initech (initech.example); ``relsync`` run in this process against it."""
    monkeypatch.setenv("NO_COLOR", "1")
    config = tmp_path / "relsync.toml"
    write_fake_config(
        config, "https://127.0.0.1:1/EWS/Exchange.asmx", "svc", "secret", ["a@example.com"], "example.com"
    )
    url = load_config(config).config.store.url
    upgrade(url)
    store = Store(url)
    with store.session() as s:
        for name, domain in [
            ("Acme Holdings", "acme.com"),
            ("Acme Deutschland", "acme.de"),
            ("Acme UK", "acme.co.uk"),
            ("Initech", "initech.example"),
        ]:
            org = Organisation(name=name, normalised_name=normalise_company_name(name))
            s.add_all(
                [org, OrganisationDomain(domain=domain, organisation=org), Person(display_name=name, organisation=org)]
            )
        s.flush()
        for org in s.query(Organisation):
            s.add(Relationship(organisation_id=org.id, status=RelationshipStatus.ACTIVE))
    store.dispose()

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            main(["--config", str(config), *args])
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


def test_a_family_is_listed_confirmed_with_a_parent_and_then_shows_as_a_group(relsync: Callable[..., Run]) -> None:
    listed = relsync("groups", "families", "--json")
    assert listed.code == 0, listed.err
    (acme,) = json.loads(listed.out)
    assert acme["family"] == "acme" and acme["confirmed"] is False
    assert [m["domains"] for m in acme["members"]] == [["acme.com"], ["acme.de"], ["acme.co.uk"]]
    done = relsync("groups", "confirm", "acme", "--parent", "Acme Holdings")
    assert done.code == 0, done.err
    assert done.out.strip() == "family acme confirmed: Acme Holdings is the parent of Acme Deutschland, Acme UK"
    assert relsync("groups", "families", "--pending", "--json").out.strip() == "[]"
    text = relsync("groups", "families").out
    assert "acme (confirmed): parent Acme Holdings" in text and "  Acme UK: acme.co.uk" in text
    explained = relsync("explain", "Acme UK", "--json")
    assert explained.code == 0, explained.err
    (entry,) = json.loads(explained.out)
    assert entry["business"]["group"]["root"] == "Acme Holdings"
    assert entry["business"]["group"]["via"] == "domain family 'acme' confirmed"
    gone = relsync("groups", "unconfirm", "acme")
    assert gone.code == 0 and "no longer confirmed" in gone.out
    assert json.loads(relsync("groups", "families", "--json").out)[0]["confirmed"] is False


def test_an_unknown_family_or_a_parent_outside_it_is_one_sentence_and_exit_2(relsync: Callable[..., Run]) -> None:
    unknown = relsync("groups", "confirm", "initech")
    assert unknown.code == 2
    assert "FAMILY 'initech' is not a domain family two organisations share (families: acme)" in unknown.err
    outside = relsync("groups", "confirm", "acme", "--parent", "Initech")
    assert outside.code == 2 and "--parent 'Initech' is not one member of family 'acme'" in outside.err
    assert relsync("groups", "unconfirm", "acme").code == 1
