"""The review queue end to end: sync, `relsync duplicates ...`, and the Outlook category in the fake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from scheduler.cli import cli, write_fake_config

CATEGORY = "Possible duplicate"


@pytest.fixture
def env(tmp_path: Path, ews_schema: etree.XMLSchema) -> Iterator[dict[str, Any]]:
    company = build_company(7, 2, "tiny")
    with FakeExchange(company, validate=ews_schema) as fake:
        config = tmp_path / "relsync.toml"
        write_fake_config(
            config, fake.url, fake.username, fake.password, [m.email for m in company.mailboxes()], company.domain
        )
        # Everything doubtful goes to review: nothing is merged by rule in this test.
        with config.open("a") as f:
            f.write("\n[identity]\nmerge_threshold = 1.0\nreview_threshold = 0.6\n")
        yield {"fake": fake, "config": str(config), "company": company}
    assert fake.violations == []


def run(env: dict[str, Any], *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--config", env["config"], *args], catch_exceptions=False)
    return result


def flagged_contacts(fake: FakeExchange) -> set[tuple[str, str]]:
    out = set()
    for address, mailbox in fake.mailboxes.items():
        for _item_id, spec in mailbox.items("contacts"):
            if CATEGORY in (spec.fields.get("Categories") or ()):
                out.add((address, str(spec.fields.get("DisplayName"))))
    return out


def pending(env: dict[str, Any]) -> list[dict[str, Any]]:
    result = run(env, "duplicates", "list", "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.output)
    return rows


def test_review_queue_flows_through_the_cli_and_outlook(env: dict[str, Any]) -> None:
    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "resync").exit_code == 0
    queue = pending(env)
    assert queue, "the planted duplicates (Stephen/Steve Miller, ...) must be queued for review"
    assert all(r["status"] == "pending" and 0.6 <= r["score"] < 1.0 for r in queue)
    nickname = next(r for r in queue if "Stephen" in f"{r['a']['name']} {r['b']['name']}")
    # The category is on the contacts of the newer record of each pair, and nowhere else.
    flagged = flagged_contacts(env["fake"])
    newer = {r["b"]["name"] for r in queue if r["kind"] == "person"}
    assert flagged and {name for _, name in flagged} <= newer

    shown = run(env, "duplicates", "show", str(nickname["id"]))
    assert shown.exit_code == 0 and json.loads(shown.output)["evidence"]

    # Rejected: never proposed again, and the category comes off, even after a full resync.
    assert run(env, "duplicates", "reject", str(nickname["id"])).exit_code == 0
    assert run(env, "resync", "--full").exit_code == 0
    assert run(env, "duplicates", "scan").exit_code == 0
    assert nickname["id"] not in {r["id"] for r in pending(env)}
    rejected = json.loads(run(env, "duplicates", "list", "--status", "rejected", "--json").output)
    assert [r["id"] for r in rejected] == [nickname["id"]]
    names = {nickname["a"]["name"], nickname["b"]["name"]}
    assert not any(name in names for _, name in flagged_contacts(env["fake"]))


def test_merge_and_unmerge_through_the_cli(env: dict[str, Any]) -> None:
    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "resync").exit_code == 0
    pair = next(r for r in pending(env) if r["kind"] == "person")
    people_before = run(env, "export", "people").output
    merged = run(env, "duplicates", "merge", str(pair["id"]))
    assert merged.exit_code == 0 and "merged person" in merged.output
    people_merged = run(env, "export", "people").output
    assert len(people_merged.splitlines()) == len(people_before.splitlines()) - 1
    assert run(env, "duplicates", "merge", str(pair["id"])).exit_code != 0  # already merged
    unmerged = run(env, "duplicates", "unmerge", str(pair["id"]))
    assert unmerged.exit_code == 0, unmerged.output
    assert run(env, "export", "people").output == people_before
    assert pair["id"] not in {r["id"] for r in pending(env)}  # an unmerged pair counts as rejected


def test_match_pairs_scores_a_csv_and_reports_bad_rows_by_line(tmp_path: Path) -> None:
    csv = tmp_path / "pairs.csv"
    csv.write_text(
        "kind,a,b,label\n"
        'organization,IBM,"International Business Machines, Inc.",1\n'
        "organization,Acme Corp,Acme Bank,0\n"
        'person,"{""name"": ""Steve Miller"", ""company"": ""Acme""}",'
        '"{""name"": ""Stephen Miller"", ""company"": ""Acme""}",1\n'
        "spaceship,a,b,1\n"
    )
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "none.toml"), "match", "pairs", str(csv), "--json"])
    lines = [json.loads(x) for x in result.output.splitlines() if x.startswith("{")]
    decisions = [x for x in lines if "decision" in x]
    assert [d["line"] for d in decisions] == [2, 3, 4]
    assert decisions[1]["decision"] == "apart"
    metrics = lines[-1]
    assert metrics["pairs"] == 3 and 0 <= metrics["f1"] <= 1
    assert result.exit_code == 1
    assert "line 5" in result.stderr


def test_people_from_a_run_killed_before_identity_resolution_are_checked_by_the_next_run(
    env: dict[str, Any],
) -> None:
    from connector.fake.model import ItemSpec
    from scheduler.config import load_config
    from scheduler.jobs import ews_settings, sync_rules, sync_settings

    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "resync").exit_code == 0
    before = {r["id"] for r in pending(env)}
    fake: FakeExchange = env["fake"]
    owner = next(iter(fake.mailboxes))
    # Someone already known, typed again by a colleague with another address: a likely duplicate.
    known = next(spec for _, spec in fake.mailboxes[owner].items("contacts") if spec.fields.get("CompanyName"))
    fields = dict(known.fields)
    fields["EmailAddresses"] = {
        "EmailAddress1": "second.address@" + str(fields["EmailAddresses"]["EmailAddress1"]).split("@")[1]
    }
    other = next(m for m in fake.mailboxes if m != owner)
    fake.mailboxes[other].create("contacts", ItemSpec("Contact", fields))

    # A run that synced and was killed before it resolved identities: the sync step alone.
    from connector.ews import EwsConnection
    from connector.sync import MailboxSync
    from mapping.store.store import Store

    loaded = load_config(env["config"])
    store = Store(loaded.config.store.url)
    connection = EwsConnection(ews_settings(loaded))
    MailboxSync(connection, store, sync_rules(loaded), sync_settings(loaded)).sync(other, ["contacts"])
    connection.close()
    store.dispose()

    assert run(env, "resync").exit_code == 0
    new_pairs = [r for r in pending(env) if r["id"] not in before]
    assert any(str(fields["DisplayName"]) in (r["a"]["name"], r["b"]["name"]) for r in new_pairs)


def _scan(env: dict[str, Any]) -> dict[str, int]:
    result = run(env, "duplicates", "scan", "--json")
    assert result.exit_code == 0, result.output
    counts: dict[str, int] = json.loads(result.output.strip().splitlines()[-1])  # after any log lines
    return counts


def test_match_calibrate_fits_on_the_store_and_the_identity_pass_uses_the_saved_weights(
    env: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from mapping.identity import Calibration
    from mapping.identity.calibration_file import CalibrationSet, load_calibration_set, save_calibration_set
    from scheduler.cli import main

    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "resync").exit_code == 0
    dry = run(env, "match", "calibrate", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    shown = json.loads(dry.output)
    assert shown["file"] is None and shown["kinds"]["person"]["pairs"] > 0
    assert run(env, "match", "calibrate").exit_code == 2  # nowhere to write: says to set the key
    config = Path(env["config"])
    with config.open("a") as f:  # the [identity] section is the file's last
        f.write('calibration_file = "identity-calibration.json"\n')
    saved = run(env, "match", "calibrate", "--json")
    assert saved.exit_code == 0, saved.output
    path = config.parent / "identity-calibration.json"
    assert json.loads(saved.output)["used_by_identity_pass"] and json.loads(saved.output)["file"] == str(path)
    fitted = load_calibration_set(path)
    assert fitted.person is not None and fitted.person.pairs == shown["kinds"]["person"]["pairs"]
    assert _scan(env)["merged"] == 0  # the thresholds of this config leave every doubtful pair to review

    # With labelled pairs, the fit is judged against them with both weights before anyone uses it.
    csv = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "identity_pairs.csv"
    judged = run(env, "match", "calibrate", "--dry-run", "--pairs", str(csv), "--json")
    assert judged.exit_code == 0, judged.output
    metrics = json.loads(judged.output)["labelled_pairs"]
    assert set(metrics) == {"expert", "calibrated"} and metrics["expert"]["pairs"] >= 300

    # Weights that trust every candidate pair: the next pass merges what it queued before, so it uses the file.
    save_calibration_set(path, CalibrationSet(person=Calibration(prior=60.0, weights={})))
    assert _scan(env)["merged"] > 0
    # `match pairs` scores with the weights the pass uses, unless asked for the built-in ones.
    for flags, weights in (((), "calibrated"), (("--expert-weights",), "expert")):
        scored = run(env, "match", "pairs", str(csv), "--json", *flags)
        assert json.loads(scored.output.strip().splitlines()[-1])["weights"] == weights

    # A damaged file stops the pass with a sentence naming it (exit 2); a missing one means expert weights.
    path.write_text('{"format": "something else"}')
    with pytest.raises(SystemExit) as stopped:
        main(["--config", env["config"], "duplicates", "scan"])
    assert stopped.value.code == 2
    assert "identity-calibration.json" in capsys.readouterr().err
    path.unlink()
    assert run(env, "duplicates", "scan").exit_code == 0
