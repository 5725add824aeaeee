"""Writing categories onto Outlook items through the real exchangelib: only ours change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lxml import etree

from connector.ews.categories import update_categories
from connector.ews.client import EwsConnection
from connector.ews.settings import EwsSettings
from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from connector.writer import merged_categories


@pytest.fixture
def fake(ews_schema: etree.XMLSchema) -> Iterator[FakeExchange]:
    with FakeExchange(build_company(7, 2, "tiny"), validate=ews_schema) as server:
        yield server
    assert server.violations == []


def connect(fake: FakeExchange) -> EwsConnection:
    return EwsConnection(EwsSettings(endpoint=fake.url, username=fake.username, password=fake.password, auth="basic"))


def first_contact(fake: FakeExchange) -> tuple[str, str]:
    owner = next(iter(fake.mailboxes))
    item_id, _ = next(iter(fake.mailboxes[owner].items("contacts")))
    return owner, item_id


def test_merge_keeps_user_categories_in_order_and_is_case_insensitive() -> None:
    assert merged_categories(["VIP", "Customer"], ["customer", "Possible duplicate"], []) == [
        "VIP",
        "Customer",
        "Possible duplicate",
    ]
    assert merged_categories(["VIP", "Value: Average"], ["Value: Superior"], ["value: average"]) == [
        "VIP",
        "Value: Superior",
    ]


def test_adding_a_category_keeps_the_users_own(fake: FakeExchange) -> None:
    owner, item_id = first_contact(fake)
    fake.mailboxes[owner].update(item_id, Categories=("VIP", "Golf"))
    connection = connect(fake)
    result = update_categories(connection.account(owner), item_id, add=["Possible duplicate"])
    assert result.changed
    spec = fake.mailboxes[owner].get(item_id)
    assert spec is not None and spec.fields["Categories"] == ("VIP", "Golf", "Possible duplicate")
    writes = fake.stats.to_json()["writes_total"]
    again = update_categories(connection.account(owner), item_id, add=["Possible duplicate"])
    assert not again.changed
    assert fake.stats.to_json()["writes_total"] == writes  # nothing to do: nothing written


def test_removing_our_category_leaves_an_item_without_categories(fake: FakeExchange) -> None:
    owner, item_id = first_contact(fake)
    fake.mailboxes[owner].update(item_id, Categories=("Possible duplicate",))
    result = update_categories(connect(fake).account(owner), item_id, remove=["Possible duplicate"])
    assert result.changed and result.categories == ()
    spec = fake.mailboxes[owner].get(item_id)
    assert spec is not None and not spec.fields.get("Categories")


def test_a_changekey_conflict_is_reread_and_retried(fake: FakeExchange) -> None:
    owner, item_id = first_contact(fake)
    fake.faults.add("conflict", operation="UpdateItem", times=1)
    result = update_categories(connect(fake).account(owner), item_id, add=["Customer"])
    assert result.changed
    spec = fake.mailboxes[owner].get(item_id)
    assert spec is not None and "Customer" in spec.fields["Categories"]
