"""The web console in a real browser: headless Debian chromium (Playwright) against ``relsync serve``
on a demo company, signing in through the fake Entra ID (authorization code flow with PKCE).

Each page gets a screenshot in test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from connector.fake.tokens import FakeTokenService
from scheduler.cli import cli
from tests.web.consoleenv import (
    ARTIFACTS,
    PASSWORD,
    Demo,
    free_port,
    identity_provider,
    serving,
    web_section,
    write_config,
)


@pytest.fixture(scope="module")
def console(demo: Demo) -> Iterator[dict[str, Any]]:
    port = free_port()
    idp = identity_provider(demo, port)
    config = write_config(demo, "console-oidc.toml", web_section(demo, port, idp))
    try:
        with serving(config, port) as url:
            yield {"url": url, "idp": idp, "config": config, "demo": demo}
    finally:
        idp.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(ignore_https_errors=True)  # the fake Entra ID's self-signed certificate
    p = context.new_page()
    yield p
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, console: dict[str, Any], user: str, start: str = "/") -> None:
    page.goto(console["url"] + start)
    page.fill("input[name=login]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def duplicates(console: dict[str, Any], status: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(
        cli,
        ["--config", str(console["config"]), "duplicates", "list", "--status", status, "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.output)
    return rows


def test_no_session_is_sent_to_sign_in_with_the_identity_provider(page: Any, console: dict[str, Any]) -> None:
    page.goto(console["url"] + "/relationships")
    idp: FakeTokenService = console["idp"]
    assert page.url.startswith(idp.authority + "/oauth2/v2.0/authorize?"), page.inner_text("body")
    assert "code_challenge_method=S256" in page.url and "nonce=" in page.url
    assert page.locator("input[name=password]").count() == 1
    shot(page, "sign-in")


def test_a_manager_signs_in_and_sees_relationships_timeline_and_overdue_tasks(
    page: Any, console: dict[str, Any]
) -> None:
    demo: Demo = console["demo"]
    sign_in(page, console, demo.manager, "/relationships")
    assert page.url.endswith("/relationships"), page.inner_text("body")
    assert f"{demo.manager} (manager)" in page.inner_text("header")
    nav = page.inner_text("nav")
    assert "Sync health" in nav and "Duplicates" not in nav  # duplicate decisions are the admins'

    # The overdue follow-ups (planned six weeks ago), and from one of them its relationship.
    page.goto(console["url"] + "/followups?state=overdue")
    shot(page, "followups-overdue")
    overdue = page.locator("tr.overdue")
    assert overdue.count() > 0
    assert "(overdue)" in overdue.first.inner_text()
    name = overdue.first.locator("td a").inner_text()
    overdue.first.locator("td a").click()
    page.wait_for_load_state()
    shot(page, "relationship")
    assert page.inner_text("h1") == name
    timeline = page.locator("table.timeline tbody tr")
    assert timeline.count() > 0, "the relationship's interactions across mailboxes"
    assert "across every staff mailbox" in page.inner_text("#timeline-h + p")
    assert "overdue" in page.inner_text("section:has(#fu-h)")

    # Search by part of the name finds it again.
    page.goto(console["url"] + "/relationships")
    page.fill("input[name=q]", name[: max(4, len(name) // 2)])
    page.click("form.search button")
    page.wait_for_load_state()
    shot(page, "relationships-search")
    assert page.locator(f"td a:text-is('{name}')").count() == 1

    page.goto(console["url"] + "/health")
    shot(page, "sync-health")
    rows = page.locator("main table tbody tr")
    assert rows.count() == 2  # the demo's two mailboxes
    assert demo.staff in page.inner_text("main table")

    page.goto(console["url"] + "/duplicates")
    assert page.locator("h1").inner_text() == "Not allowed"


def test_an_admin_merges_a_pair_in_the_review_page_and_the_cli_sees_it(page: Any, console: dict[str, Any]) -> None:
    demo: Demo = console["demo"]
    pending = duplicates(console, "pending")
    assert pending, "the demo queues doubtful identities for review"
    pair = pending[0]
    sign_in(page, console, demo.admin, "/duplicates")
    shot(page, "duplicates")
    card = page.locator(f"#pair-{pair['id']}")
    assert pair["a"]["name"] in card.inner_text() and pair["b"]["name"] in card.inner_text()
    assert card.locator(".evidence li").count() >= 1
    card.locator("button[value=merge]").click()
    page.wait_for_load_state()
    assert "merged" in page.inner_text(".flash")
    merged = duplicates(console, "merged")
    assert pair["id"] in {r["id"] for r in merged}
    row = next(r for r in merged if r["id"] == pair["id"])
    assert row["decided_by"] == f"web:{demo.admin}"

    # Undone from the merged list: the pair is then rejected (never proposed again).
    page.goto(console["url"] + "/duplicates?status=merged")
    page.locator(f"#pair-{pair['id']} button[value=unmerge]").click()
    page.wait_for_load_state()
    assert "unmerged" in page.inner_text(".flash")
    assert pair["id"] in {r["id"] for r in duplicates(console, "rejected")}
    assert len(page.locator("nav a").all()) == 8, "an admin sees every page"


def test_staff_see_relationships_and_only_their_own_follow_ups(page: Any, console: dict[str, Any]) -> None:
    demo: Demo = console["demo"]
    sign_in(page, console, demo.staff, "/")
    assert page.url.endswith("/relationships"), page.inner_text("body")
    nav = page.inner_text("nav")
    assert "Relationships" in nav and "Sync health" not in nav and "Duplicates" not in nav
    page.goto(console["url"] + "/followups?state=all&owner=someone-else@example.com")
    shot(page, "followups-staff")
    owners = {t.strip() for t in page.locator("main tbody tr td:nth-child(3)").all_inner_texts()}
    assert owners <= {demo.staff}
    for forbidden in ("/health", "/duplicates", "/overview", "/movement", "/compliance", "/quality"):
        response = page.goto(console["url"] + forbidden)
        assert response is not None and response.status == 403, forbidden
        assert "does not include this page" in page.inner_text(".message")

    # An action is checked on the server too: a staff member's well-formed merge (with the session's
    # CSRF token) is refused, and nothing changes.
    before = duplicates(console, "all")
    pending = [r for r in before if r["status"] == "pending"]
    assert pending
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    refused = page.request.post(
        f"{console['url']}/duplicates/{pending[0]['id']}/merge",
        form={"csrf": token, "status": "pending"},
        max_redirects=0,
    )
    assert refused.status == 403
    assert duplicates(console, "all") == before


def test_a_user_without_a_role_is_refused(page: Any, console: dict[str, Any]) -> None:
    sign_in(page, console, console["demo"].outsider, "/relationships")
    assert "has no role" in page.inner_text(".message")


@pytest.mark.parametrize("tamper", ["forged", "expired", "wrong_audience"])  # the rest: test_web_idtoken
def test_a_bad_id_token_is_refused_and_no_session_starts(page: Any, console: dict[str, Any], tamper: str) -> None:
    idp: FakeTokenService = console["idp"]
    idp.oidc.tamper = tamper  # type: ignore[assignment]
    try:
        sign_in(page, console, console["demo"].manager, "/relationships")
    finally:
        idp.oidc.tamper = None
    assert "Sign-in refused" in page.inner_text(".message")
    page.goto(console["url"] + "/relationships")
    assert page.url.startswith(idp.authority), "still not signed in"


def test_bad_input_gets_a_sentence_never_a_server_error(page: Any, console: dict[str, Any]) -> None:
    sign_in(page, console, console["demo"].manager, "/relationships")
    for path, status, words in [
        ("/relationships/987654321", 404, "There is no relationship 987654321"),
        ("/relationships/not-a-number", 404, "relationship ids are whole numbers"),
        ("/relationships?q=" + "x" * 10_240, 200, "10,240 characters"),
        ("/relationships?q=%25", 200, "Nothing matches"),
        ("/no/such/page", 404, "no such page"),
    ]:
        response = page.goto(console["url"] + path)
        assert response is not None and response.status == status, path
        assert words in page.inner_text("main"), path


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(page: Any, console: dict[str, Any]) -> None:
    sign_in(page, console, console["demo"].admin, "/duplicates")
    before = duplicates(console, "all")
    pending = [r for r in before if r["status"] == "pending"]
    assert pending
    target = f"{console['url']}/duplicates/{pending[0]['id']}/reject"
    missing = page.request.post(target, form={"status": "pending"}, max_redirects=0)
    wrong = page.request.post(target, form={"status": "pending", "csrf": "guessed"}, max_redirects=0)
    assert missing.status == 403 and wrong.status == 403
    assert "CSRF" in missing.text()
    assert duplicates(console, "all") == before


def test_the_session_cookie_is_http_only_secure_and_same_site(page: Any, console: dict[str, Any]) -> None:
    sign_in(page, console, console["demo"].manager, "/relationships")
    cookie = next(c for c in page.context.cookies() if c["name"] == "relsync_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"


def test_a_manager_sees_the_pareto_customers_movement_compliance_and_data_quality(
    page: Any, console: dict[str, Any]
) -> None:
    from mapping.store.insights import overview_report
    from mapping.store.store import Store
    from scheduler.config import load_config
    from scheduler.report_settings import report_settings

    loaded = load_config(console["config"])
    store = Store(loaded.config.store.url)
    try:
        expected = overview_report(store, report_settings(loaded))
    finally:
        store.dispose()
    assert expected.pareto.inside, "the demo's sales make some customers the 80 %"

    sign_in(page, console, console["demo"].manager, "/overview")
    assert page.url.endswith("/overview")
    shot(page, "overview")
    shown = page.locator("table.pareto tbody td a").all_inner_texts()
    assert shown == [c.name for c in expected.pareto.inside]
    assert page.locator("main svg").count() >= 3  # Pareto curve, tier x potential matrix, revenue bars

    page.goto(console["url"] + "/movement")
    shot(page, "movement")
    assert "moved" in page.inner_text("main .sub")

    page.goto(console["url"] + "/compliance")
    shot(page, "compliance")
    owner_row = page.locator("main tbody tr", has_text=console["demo"].staff)
    overdue_link = owner_row.locator("td:nth-child(4) a")
    assert int(overdue_link.inner_text()) > 0
    overdue_link.click()
    page.wait_for_load_state()
    assert page.locator("tr.overdue").count() > 0 and console["demo"].staff in page.inner_text("h1")

    page.goto(console["url"] + "/quality")
    shot(page, "data-quality")
    assert page.locator("main section h2").count() >= 5


def test_report_dates_that_make_no_sense_get_a_sentence(page: Any, console: dict[str, Any]) -> None:
    sign_in(page, console, console["demo"].manager, "/overview")
    for path, words in [
        ("/movement?start=2026-03-01&end=2026-01-01", "before it starts"),
        ("/overview?as_of=2999-01-01", "in the future"),
        ("/compliance?as_of=yesterday", "is not a date"),
    ]:
        response = page.goto(console["url"] + path)
        assert response is not None and response.status == 400, path
        assert words in page.inner_text(".message"), path


def explained(console: dict[str, Any], name: str, rid: int) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["--config", str(console["config"]), "explain", name, "--json"])
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.output)
    return next(e for e in found if e["id"] == rid)


def override_audit(console: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    import sqlalchemy as sa

    from mapping.store.models_privacy import AuditEntry
    from mapping.store.store import Store
    from scheduler.config import load_config

    store = Store(load_config(console["config"]).config.store.url)
    try:
        with store.session() as s:
            rows = s.execute(
                sa.select(AuditEntry.actor, AuditEntry.action, AuditEntry.subject)
                .where(AuditEntry.kind == "override")
                .order_by(AuditEntry.seq)
            ).all()
    finally:
        store.dispose()
    return [(a, b, c) for a, b, c in rows]


def test_an_admin_sets_and_removes_a_tier_override_seen_on_the_page_and_in_explain(
    page: Any, console: dict[str, Any]
) -> None:
    demo: Demo = console["demo"]
    sign_in(page, console, demo.admin, "/overview")
    link = page.locator("table.pareto tbody td a").first
    name = link.inner_text()
    link.click()
    page.wait_for_load_state()
    rid = int(page.url.rsplit("/", 1)[-1])
    tiers = page.locator("#override-tier select option").all_inner_texts()
    assert len(tiers) >= 3, "the configured tiers are offered"
    tier = tiers[-1]
    audited = len(override_audit(console))

    page.select_option("#override-tier select[name=value]", tier)
    page.click("#override-tier button")
    page.wait_for_load_state()
    shot(page, "relationship-override")
    assert f"Tier of relationship {rid} is overridden to '{tier}'" in page.inner_text(".flash")
    overrides_shown = page.locator("section:has(#class-h) dt:text-is('Staff overrides') + dd")
    assert overrides_shown.inner_text() == f"tier = {tier} (by web:{demo.admin})"
    live = [o for o in explained(console, name, rid)["overrides"] if o["removed_at"] is None]
    assert [(o["dimension"], o["value"], o["mailbox"]) for o in live] == [("tier", tier, f"web:{demo.admin}")]
    assert override_audit(console)[audited:] == [(f"web:{demo.admin}", "set", f"relationship:{rid}")]

    # A value that is not a tier is a sentence on the page, and changes nothing.
    token = page.locator("#override-tier input[name=csrf]").get_attribute("value")
    refused = page.request.post(
        f"{console['url']}/relationships/{rid}/override",
        form={"csrf": token, "dimension": "tier", "value": "Gold"},
        max_redirects=0,
    )
    assert refused.status == 303  # back to the page, which says why
    page.goto(f"{console['url']}/relationships/{rid}")
    assert "'Gold' is not a tier" in page.inner_text("section:has(#class-h) .message")
    assert [o for o in explained(console, name, rid)["overrides"] if o["removed_at"] is None] == live

    page.click("#remove-tier button")
    page.wait_for_load_state()
    assert "override of relationship" in page.inner_text(".flash") and "removed" in page.inner_text(".flash")
    assert overrides_shown.inner_text() == "none"
    assert all(o["removed_at"] is not None for o in explained(console, name, rid)["overrides"])
    assert override_audit(console)[audited + 1 :] == [(f"web:{demo.admin}", "removed", f"relationship:{rid}")]


@pytest.mark.parametrize("who", ["staff", "manager"])
def test_only_admins_get_the_override_form_and_a_forged_post_is_refused(
    page: Any, console: dict[str, Any], who: str
) -> None:
    demo: Demo = console["demo"]
    sign_in(page, console, getattr(demo, who), "/followups?state=all")
    link = page.locator("main tbody td a").first
    name = link.inner_text()
    link.click()
    page.wait_for_load_state()
    rid = int(page.url.rsplit("/", 1)[-1])
    assert page.locator("form.override").count() == 0 and page.locator(".overrides").count() == 0
    before = explained(console, name, rid)["overrides"]
    audited = override_audit(console)
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    for path, form in [
        (f"/relationships/{rid}/override", {"csrf": token, "dimension": "tier", "value": "Superior"}),
        (f"/relationships/{rid}/override/tier/remove", {"csrf": token}),
    ]:
        refused = page.request.post(console["url"] + path, form=form, max_redirects=0)
        assert refused.status == 403, path
        assert "does not include this page" in refused.text()
    assert explained(console, name, rid)["overrides"] == before
    assert override_audit(console) == audited


def test_an_override_without_the_csrf_token_or_for_an_unknown_relationship_is_refused(
    page: Any, console: dict[str, Any]
) -> None:
    sign_in(page, console, console["demo"].admin, "/relationships")
    audited = override_audit(console)
    target = f"{console['url']}/relationships/1/override"
    missing = page.request.post(target, form={"dimension": "tier", "value": "Superior"}, max_redirects=0)
    assert missing.status == 403 and "CSRF" in missing.text()
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    for path, status, words in [
        ("/relationships/987654321/override", 404, "There is no relationship 987654321"),
        ("/relationships/x1/override", 404, "relationship ids are whole numbers"),
        ("/relationships/1/override/status/remove", 404, "Overrides are of type, tier, owner"),
    ]:
        response = page.request.post(
            console["url"] + path, form={"csrf": token, "dimension": "tier", "value": "Superior"}, max_redirects=0
        )
        assert response.status == status, path
        assert words in response.text(), path
    assert override_audit(console) == audited


def test_oversized_and_senseless_input_on_every_page_gets_a_sentence_or_an_empty_state(
    page: Any, console: dict[str, Any]
) -> None:
    sign_in(page, console, console["demo"].admin, "/relationships")
    ten_kb = "9" * 10_240
    for path, status, words in [
        ("/overview?as_of=" + ten_kb, 400, "is not a date"),
        ("/compliance?as_of=" + ten_kb, 400, "is not a date"),
        ("/movement?start=" + ten_kb, 400, "is not a date"),
        ("/movement?start=2999-01-01&end=2999-02-01", 400, "in the future"),
        ("/relationships/" + "9" * 30, 404, "relationship ids are whole numbers"),
        ("/followups?state=sideways&owner=" + "x" * 10_240, 200, "Follow-ups"),
        ("/duplicates?status=" + "x" * 10_240, 200, "Duplicates"),
        ("/relationships?q=" + "%00" * 50, 200, "Nothing matches"),
        ("/followups?owner=a%00b", 200, "Follow-ups"),
    ]:
        response = page.goto(console["url"] + path)
        assert response is not None and response.status == status, path
        assert words in page.inner_text("main"), path
        assert "Something went wrong" not in page.inner_text("main"), path
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    response = page.request.post(
        f"{console['url']}/relationships/1/override",
        form={"csrf": token, "dimension": "owner", "value": "x" * 10_240},
        max_redirects=0,
    )
    assert response.status == 303
    page.goto(f"{console['url']}/relationships/1")
    assert "at most 255 characters" in page.inner_text("section:has(#class-h) .message")
    response = page.request.post(
        f"{console['url']}/relationships/1/override",
        form={"csrf": token, "dimension": "owner", "value": "a\x00b"},
        max_redirects=0,
    )
    assert response.status == 303
    page.goto(f"{console['url']}/relationships/1")
    assert "without control characters" in page.inner_text("section:has(#class-h) .message")
