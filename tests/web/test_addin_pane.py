"""The task pane in headless Chromium, with a stand-in for Office.js, against `relsync serve` on the demo.

The fake Exchange stays up for the whole module: it serves the auth metadata document the identity
tokens point to, and the follow-up run after "Mark done" completes the task in its Tasks folder.
Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from lxml import etree

from connector.fake.company.generator import build_company
from connector.fake.ews.identity import exchange_user_id
from connector.fake.ews.server import FakeExchange
from mapping.next_offer import Suggestion
from mapping.store.addin import identity_hash, link_identity
from mapping.store.business_offers import offers_of
from mapping.store.insights_card import relationship_card
from mapping.store.models import (
    EntityType,
    FollowUp,
    FollowUpStatus,
    ItemLink,
    MatchCandidate,
    MatchStatus,
    Relationship,
    StaffMailbox,
)
from mapping.store.models_business import RelationshipOffer
from mapping.store.store import Store
from scheduler.config import load_config
from scheduler.followups_job import run_followups
from scheduler.jobs import run_sync
from tests.web.addinenv import OFFICE_JS, STANDIN, call
from tests.web.consoleenv import ARTIFACTS, Demo, build_demo, free_port, serving, web_section, write_config


@dataclass
class Live:
    base: str
    demo: Demo
    fake: FakeExchange
    config: Path
    store_url: str
    viewer: str
    token: str
    relationship: int
    name: str
    follow_up: int
    follow_up_subject: str
    customer: str  # an e-mail address of the customer's person
    other_mailbox: str  # a staff mailbox other than the viewer's that holds a recent interaction
    domain: str
    offers: tuple[Suggestion, ...]  # what the demo's follow-up run kept to offer the customer next
    plain: tuple[int, str]  # a relationship with nothing to offer, and one of its addresses


def _target(store: Store) -> tuple[int, int, str, str, str, str, str]:
    """A Superior organisation with an open follow-up whose owner is not the only staff mailbox in its
    recent interactions: (relationship, follow-up, owner, subject, name, customer address, other mailbox)."""
    with store.session() as s:
        rows = list(
            s.execute(
                sa.select(Relationship.id, FollowUp.id, StaffMailbox.address, FollowUp.subject)
                .join(FollowUp, FollowUp.relationship_id == Relationship.id)
                .join(StaffMailbox, StaffMailbox.id == FollowUp.owner_mailbox_id)
                .join(ItemLink, sa.and_(ItemLink.entity_type == EntityType.TASK, ItemLink.entity_id == FollowUp.id))
                .where(
                    Relationship.tier == "Superior",
                    Relationship.organisation_id.is_not(None),
                    FollowUp.status == FollowUpStatus.OPEN,
                )
                .order_by(Relationship.id)
            )
        )
    for rid, fid, owner, subject in rows:
        card = relationship_card(store, rid, limit=5)
        assert card is not None
        others = [m for e in card.timeline for m in e.mailboxes if m != owner]
        emails = [e for p in card.people for e in p.emails]
        if others and emails:
            return rid, fid, owner, subject, card.name, emails[0], others[0]
    raise AssertionError("the demo has no Superior customer with an open follow-up seen by two mailboxes")


def _nothing_to_offer(store: Store) -> tuple[int, str]:
    """A relationship the follow-up run found nothing to offer, and an address of its people."""
    with store.session() as s:
        rids = list(
            s.scalars(
                sa.select(Relationship.id)
                .outerjoin(RelationshipOffer, RelationshipOffer.relationship_id == Relationship.id)
                .where(RelationshipOffer.relationship_id.is_(None))
                .order_by(Relationship.id)
            )
        )
    for rid in rids:
        card = relationship_card(store, rid, limit=1)
        emails = [e for p in card.people for e in p.emails] if card is not None else []
        if emails:
            return rid, emails[0]
    raise AssertionError("every demo relationship has something to offer")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, ews_schema: etree.XMLSchema) -> Iterator[Live]:
    with FakeExchange(build_company(7, 2, "tiny"), validate=ews_schema) as fake:
        demo = build_demo(tmp_path_factory.mktemp("addin-demo"), ews_schema, fake=fake)
        port = free_port()
        pane_url = f"http://localhost:{port}/addin/pane.html"
        section = web_section(demo, port, None, auth='"dev"', cookie_secure="false")
        section += f'\n[web.addin]\nexchange_metadata_urls = ["{fake.metadata_url}"]\npane_url = "{pane_url}"\n'
        config = write_config(demo, "addin.toml", section)
        loaded = load_config(config)
        store = Store(loaded.config.store.url)
        try:
            rid, fid, owner, subject, name, customer, other = _target(store)
            link_identity(store, identity_hash(fake.metadata_url, exchange_user_id(owner)), owner, "test")
            with store.session() as s:
                offers = offers_of(s, rid)
            plain = _nothing_to_offer(store)
        finally:
            store.dispose()
        with serving(config, port) as base:
            yield Live(
                base,
                demo,
                fake,
                config,
                loaded.config.store.url,
                owner,
                fake.identity_token(owner, pane_url),
                rid,
                name,
                fid,
                subject,
                customer,
                other,
                demo.company.domain,
                offers,
                plain,
            )


def _items(live: Live) -> list[dict[str, Any]]:
    staff = {"emailAddress": live.viewer, "displayName": "Me"}
    return [
        {
            "itemType": "message",
            "from": {"emailAddress": live.customer.upper(), "displayName": "Customer"},
            "to": [staff],
            "cc": [],
        },
        {
            "itemType": "message",
            "from": {"emailAddress": "someone.new@brand-new-prospect.example", "displayName": "New"},
            "to": [staff],
        },
        {
            "itemType": "message",
            "compose": True,
            "from": {"emailAddress": "", "displayName": "Draft"},
            "to": [],
            "cc": [],
        },
        {
            "itemType": "appointment",
            "organizer": staff,
            "requiredAttendees": [{"emailAddress": f"colleague{i}@{live.domain}"} for i in range(3)],
        },
        {"itemType": "message", "from": {"emailAddress": "x" * 2040 + "@example.com"}, "to": [staff]},
        {
            "itemType": "message",
            "from": staff,
            "to": [{"emailAddress": f"person{i}@customer{i % 40}.example"} for i in range(499)]
            + [{"emailAddress": live.customer}],
        },
        {
            "itemType": "appointment",
            "compose": True,
            "organizer": staff,
            "requiredAttendees": [staff, {"emailAddress": live.customer}],
            "optionalAttendees": [],
        },
        {"itemType": "message", "from": {"emailAddress": live.plain[1]}, "to": [staff]},
    ]


@pytest.fixture(scope="module")
def page(live: Live, browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 360, "height": 900})
    p = context.new_page()
    messages: list[str] = []
    p.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    p.on("pageerror", lambda e: messages.append(f"error: {e}"))
    p.messages = messages  # shown when a test fails (what the pane said in the browser console)
    p.route(
        OFFICE_JS, lambda route: route.fulfill(body=STANDIN.read_text(encoding="utf-8"), content_type="text/javascript")
    )
    p.add_init_script(
        f"window.__relsyncItems = {json.dumps(_items(live))}; window.__relsyncToken = {json.dumps(live.token)};"
    )
    p.goto(f"{live.base}/addin/pane.html")
    yield p
    context.close()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"addin-{name}.png"), full_page=True)


def _select(page: Any, index: int) -> None:
    page.evaluate(f"window.__relsyncSelect({index})")


def test_the_card_of_a_superior_customer_shows_tier_owner_other_mailboxes_and_the_open_follow_up(
    live: Live, page: Any
) -> None:
    card = page.locator(f"section[data-relationship='{live.relationship}']")
    try:
        card.wait_for(timeout=20_000)
    finally:
        _shot(page, "superior-customer")
    assert page.messages == []  # nothing went wrong in the browser (CSP, script errors, failed requests)
    assert live.name in card.locator("h2").inner_text()
    assert "Superior" in card.locator("[data-field=tier]").inner_text()
    assert card.locator("[data-field=owner]").inner_text() == live.viewer
    assert live.other_mailbox in card.locator("[data-field=timeline]").inner_text()
    assert live.follow_up_subject in card.locator("[data-field=follow-up]").inner_text()
    assert page.evaluate("window.__relsyncTokenCalls") >= 1


def test_the_card_shows_what_to_offer_the_superior_customer_next_with_its_support(live: Live, page: Any) -> None:
    """The suggestions the demo's follow-up run put in the task bodies ("Offer next"), on the card."""
    _select(page, 0)
    card = page.locator(f"section[data-relationship='{live.relationship}']")
    card.wait_for(timeout=20_000)
    _shot(page, "next-offer")
    assert live.offers, "the demo's sales history gives its Superior customer something to offer"
    shown = card.locator("[data-field=next-offer] li").all_inner_texts()
    assert shown == [s.line() for s in live.offers]
    assert all("similar customers" in line and " %" in line for line in shown)
    answer = call(live.base, "/addin/api/card", live.token, {"item_type": "message", "addresses": [live.customer]})
    first = answer.json()["cards"][0]["next_offer"][0]
    best = live.offers[0]
    assert first == {
        "product": best.product,
        "support": best.support,
        "buyers": best.buyers,
        "peers": best.peers,
        "segment": best.segment,
        "line": best.line(),
    }


def test_a_card_with_nothing_to_offer_says_so(live: Live, page: Any) -> None:
    _select(page, 7)
    card = page.locator(f"section[data-relationship='{live.plain[0]}']")
    card.wait_for(timeout=20_000)
    _shot(page, "nothing-to-offer")
    said = card.locator("[data-field=next-offer]")
    assert said.evaluate("e => e.tagName") == "P"
    assert said.inner_text().startswith("Nothing to suggest")


def test_moving_to_the_next_message_re_renders_the_pane(live: Live, page: Any) -> None:
    _select(page, 1)
    page.get_by_text("Not in relsync yet").wait_for(timeout=20_000)
    _shot(page, "unknown-sender")
    assert page.locator(f"section[data-relationship='{live.relationship}']").count() == 0
    assert "someone.new@brand-new-prospect.example" in page.inner_text("main")
    assert "two-way conversation" in page.inner_text("main")


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (2, "no usable e-mail address"),
        (3, "Only people of your own organisation"),
        (4, "no other usable address"),
    ],
)
def test_bad_items_get_a_clear_empty_state_not_an_error(live: Live, page: Any, index: int, expected: str) -> None:
    _select(page, index)
    page.get_by_text(expected).wait_for(timeout=20_000)
    _shot(page, f"empty-{index}")
    assert page.locator(".error").count() == 0


def test_an_item_with_500_recipients_shows_the_known_customer_and_counts_the_unknown(live: Live, page: Any) -> None:
    _select(page, 5)
    page.locator(f"section[data-relationship='{live.relationship}']").wait_for(timeout=20_000)
    _shot(page, "500-recipients")
    assert page.locator(".error").count() == 0
    assert "Not in relsync yet" in page.inner_text("main")
    more = re.search(r"(\d+) more\.", page.inner_text("main"))  # ten unknown listed, the rest counted
    assert more is not None and int(more.group(1)) >= 480, page.inner_text("main")[-400:]


def test_a_meeting_being_organised_shows_its_external_attendee(live: Live, page: Any) -> None:
    _select(page, 6)
    # The previous item's pane may still show the same card (and its unknown people) until this one renders.
    page.get_by_text("Not in relsync yet").wait_for(state="detached", timeout=20_000)
    page.locator(f"section[data-relationship='{live.relationship}']").wait_for(timeout=20_000)
    _shot(page, "meeting-compose")
    assert "Not in relsync yet" not in page.inner_text("main")


def test_the_api_answers_bad_input_with_a_card_or_an_empty_state(live: Live) -> None:
    big = ["x" * 2048 + "@example.com", "", None, 42, live.customer, *[f"p{i}@c{i}.example" for i in range(600)]]
    answer = call(live.base, "/addin/api/card", live.token, {"item_type": "message", "addresses": big})
    assert answer.status_code == 200
    data = answer.json()
    assert [c["card"]["id"] for c in data["cards"]] == [live.relationship]
    assert data["triage"]["invalid"] == 4 and data["triage"]["more"] > 0
    only_us = call(live.base, "/addin/api/card", live.token, {"addresses": [f"a@{live.domain}"]}).json()
    assert only_us["cards"] == [] and "own organisation" in only_us["empty"]
    assert call(live.base, "/addin/api/card", live.token, {"addresses": "not a list"}).status_code == 400


def test_a_note_being_typed_survives_a_new_render_of_the_pane(live: Live, page: Any) -> None:
    card = page.locator(f"section[data-relationship='{live.relationship}']")
    _select(page, 1)  # another item without this card first, so the card waited for below is item 0's own
    card.wait_for(state="detached", timeout=20_000)
    _select(page, 0)
    card.wait_for(timeout=20_000)
    note = card.locator("textarea")
    note.fill("Left a voicemail")
    old = note.element_handle()
    _select(page, 0)  # the same item again: the pane renders anew
    page.wait_for_function("el => !el.isConnected", arg=old, timeout=20_000)
    assert card.locator("textarea").input_value() == "Left a voicemail"


def test_marking_the_follow_up_done_reaches_the_tasks_folder_on_the_next_run(live: Live, page: Any) -> None:
    _select(page, 0)
    card = page.locator(f"section[data-relationship='{live.relationship}']")
    card.wait_for(timeout=20_000)
    card.locator("textarea").fill("Called them about the renewal.")
    card.get_by_role("button", name="Mark done").click()
    # The pane renders again: the viewer has no open follow-up on this relationship any more.
    card.get_by_role("button", name="Mark done").wait_for(state="detached", timeout=20_000)
    _shot(page, "follow-up-done")
    store = Store(live.store_url)
    try:
        with store.session() as s:
            f = s.get_one(FollowUp, live.follow_up)
            assert f is not None and f.status == FollowUpStatus.COMPLETED and f.pending_write == "complete"
            assert f.note is not None and live.viewer in f.note and "renewal" in f.note
            item_id = s.scalar(
                sa.select(ItemLink.item_id).where(
                    ItemLink.entity_type == EntityType.TASK, ItemLink.entity_id == live.follow_up
                )
            )
        assert item_id is not None
        before = live.fake.mailboxes[live.viewer].get(item_id)
        assert before is not None and before.fields.get("Status") != "Completed"
        run_followups(load_config(live.config))
        task = live.fake.mailboxes[live.viewer].get(item_id)
        assert task is not None and task.fields.get("Status") == "Completed"
        with store.session() as s:
            assert s.get_one(FollowUp, live.follow_up).pending_write is None
    finally:
        store.dispose()


def _contact(live: Live) -> tuple[str, str, str]:
    """A contact in the viewer's mailbox that relsync has classified: (item id, address, its Value category)."""
    mailbox = live.fake.mailboxes[live.viewer]
    for item_id, spec in mailbox.items("contacts"):
        values = [str(c) for c in spec.fields.get("Categories") or () if str(c).startswith("Value: ")]
        addresses = spec.fields.get("EmailAddresses") or {}
        if values and isinstance(addresses, dict) and addresses.get("EmailAddress1"):
            return item_id, str(addresses["EmailAddress1"]), values[0]
    raise AssertionError("no classified contact in the viewer's mailbox")


def _value(live: Live, item_id: str) -> list[str]:
    spec = live.fake.mailboxes[live.viewer].get(item_id)
    assert spec is not None
    return [str(c) for c in spec.fields.get("Categories") or () if str(c).startswith("Value: ")]


def test_a_staff_override_from_the_card_is_shown_written_to_outlook_and_removable(live: Live) -> None:
    item_id, address, before = _contact(live)
    found = call(live.base, "/addin/api/card", live.token, {"addresses": [address]}).json()["cards"]
    assert found, f"{address} has a relationship"
    rid = found[0]["card"]["id"]
    path = f"/addin/api/relationships/{rid}/override"
    refused = call(live.base, path, live.token, {"dimension": "tier", "value": "Platinum"})
    assert refused.status_code == 409 and "Nothing was changed" in refused.json()["error"]
    wanted = "Marginal" if before != "Value: Marginal" else "Average"
    assert call(live.base, path, live.token, {"dimension": "tier", "value": wanted.lower()}).status_code == 200
    card = call(live.base, "/addin/api/card", live.token, {"addresses": [address]}).json()["cards"][0]["card"]
    assert [(o["dimension"], o["value"], o["set_by"]) for o in card["overrides"]] == [("tier", wanted, live.viewer)]
    run_sync(load_config(live.config))  # the normal path: classification applies it, write-back tells Outlook
    assert _value(live, item_id) == [f"Value: {wanted}"]
    gone = requests.delete(f"{live.base}{path}/tier", headers={"Authorization": f"Bearer {live.token}"}, timeout=30)
    assert gone.status_code == 200
    card = call(live.base, "/addin/api/card", live.token, {"addresses": [address]}).json()["cards"][0]["card"]
    assert card["overrides"] == []
    run_sync(load_config(live.config))
    assert _value(live, item_id) == [before]


def test_not_the_same_from_the_card_rejects_a_pending_pair_as_the_caller(live: Live) -> None:
    store = Store(live.store_url)
    try:
        with store.session() as s:
            pair = s.scalar(
                sa.select(MatchCandidate.id)
                .where(MatchCandidate.status == MatchStatus.PENDING)
                .order_by(MatchCandidate.id)
            )
        assert pair is not None, "the demo queues doubtful identities for review"
        assert call(live.base, f"/addin/api/duplicates/{pair}/not-the-same", live.token).status_code == 200
        with store.session() as s:
            decided = s.get(MatchCandidate, pair)
            assert decided is not None and decided.status is MatchStatus.REJECTED
            assert decided.decided_by == f"addin:{live.viewer}"
        again = call(live.base, f"/addin/api/duplicates/{pair}/not-the-same", live.token)
        assert again.status_code == 409
    finally:
        store.dispose()
