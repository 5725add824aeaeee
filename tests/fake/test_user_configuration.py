"""User configurations (Outlook's master category list) through the real exchangelib."""

from __future__ import annotations

import pytest
from exchangelib import Account
from exchangelib import errors as ews

from connector.fake.ews.server import FakeExchange
from connector.fake.userconfig import CATEGORY_LIST, DEFAULT_CATEGORIES


def test_every_mailbox_starts_with_outlooks_default_category_list(alice: Account) -> None:
    config = alice.calendar.get_user_configuration(CATEGORY_LIST)
    assert config.user_configuration_name.name == CATEGORY_LIST
    assert config.id and config.changekey
    xml = config.xml_data.decode()
    assert 'xmlns="CategoryList.xsd"' in xml
    for name, colour in DEFAULT_CATEGORIES:
        assert f'name="{name}" color="{colour}"' in xml


def test_update_replaces_the_xml_data_of_that_mailbox_only(fake: FakeExchange, alice: Account) -> None:
    doc = b'<categories xmlns="CategoryList.xsd"><category name="Customer" color="7"/></categories>'
    alice.calendar.update_user_configuration(CATEGORY_LIST, xml_data=doc)
    config = alice.calendar.get_user_configuration(CATEGORY_LIST, properties="XmlData")
    assert config.xml_data == doc
    others = [mb for addr, mb in fake.mailboxes.items() if addr != alice.primary_smtp_address.lower()]
    for mb in others:
        stored = fake.user_configs.get(mb.number, "calendar", CATEGORY_LIST)
        assert stored is not None and stored.xml_data != doc
    assert fake.stats.to_json()["writes"]["update"] == 1


def test_a_missing_configuration_is_item_not_found_and_can_be_created(alice: Account) -> None:
    with pytest.raises(ews.ErrorItemNotFound):
        alice.calendar.get_user_configuration("relsync.Test")
    with pytest.raises(ews.ErrorItemNotFound):
        alice.calendar.update_user_configuration("relsync.Test", xml_data=b"<a/>")
    alice.calendar.create_user_configuration("relsync.Test", xml_data=b"<a/>")
    assert alice.calendar.get_user_configuration("relsync.Test").xml_data == b"<a/>"
    with pytest.raises(ews.ErrorItemSave):
        alice.calendar.create_user_configuration("relsync.Test", xml_data=b"<b/>")
    alice.calendar.delete_user_configuration("relsync.Test")
    with pytest.raises(ews.ErrorItemNotFound):
        alice.calendar.get_user_configuration("relsync.Test")


def test_configurations_are_per_folder(alice: Account) -> None:
    with pytest.raises(ews.ErrorItemNotFound):
        alice.inbox.get_user_configuration(CATEGORY_LIST)


def test_ensure_master_categories_creates_the_list_outlook_never_wrote(fake: FakeExchange, alice: Account) -> None:
    from connector.master_categories import ensure_master_categories

    alice.calendar.delete_user_configuration(CATEGORY_LIST)
    assert ensure_master_categories(alice, [("Customer", 7)]) == ["Customer"]
    assert b'name="Customer" color="7"' in alice.calendar.get_user_configuration(CATEGORY_LIST).xml_data
    assert ensure_master_categories(alice, [("Customer", 7)]) == []
    ops = fake.stats.to_json()["operations"]
    assert ops["CreateUserConfiguration"] == 1 and "UpdateUserConfiguration" not in ops
