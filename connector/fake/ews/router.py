"""The table of EWS operations the fake serves: operation name -> handler."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from connector.fake.ews import convertid, soap
from connector.fake.ews.configurations import (
    create_user_configuration,
    delete_user_configuration,
    get_user_configuration,
    update_user_configuration,
)
from connector.fake.ews.context import Ctx, M
from connector.fake.ews.find import find_item
from connector.fake.ews.folders import find_folder, get_folder, sync_folder_hierarchy
from connector.fake.ews.items import get_item
from connector.fake.ews.resolve import resolve_names
from connector.fake.ews.sync import sync_folder_items
from connector.fake.ews.writes import create_item, delete_item, update_item

HANDLERS: dict[str, Callable[[Ctx], str]] = {
    "GetFolder": get_folder,
    "FindFolder": find_folder,
    "SyncFolderHierarchy": sync_folder_hierarchy,
    "SyncFolderItems": sync_folder_items,
    "GetItem": get_item,
    "FindItem": find_item,
    "CreateItem": create_item,
    "UpdateItem": update_item,
    "DeleteItem": delete_item,
    "ResolveNames": resolve_names,
    "GetUserConfiguration": get_user_configuration,
    "CreateUserConfiguration": create_user_configuration,
    "UpdateUserConfiguration": update_user_configuration,
    "DeleteUserConfiguration": delete_user_configuration,
    "ConvertId": convertid.convert_id,
}
#: Operations that act on a mailbox (the others, like ResolveNames, work without one; ConvertId names it).
MAILBOX_OPERATIONS = frozenset(HANDLERS) - {"ResolveNames", "ConvertId"}


def request_units(op: str, elem: etree._Element) -> int:
    """How many response messages the request asks for (one per id / item / change)."""
    container = {
        "GetItem": "ItemIds",
        "DeleteItem": "ItemIds",
        "GetFolder": "FolderIds",
        "FindFolder": "ParentFolderIds",
        "CreateItem": "Items",
        "UpdateItem": "ItemChanges",
    }.get(op)
    if container is None:
        return 1
    c = elem.find(f"{M}{container}")
    return max(1, len([x for x in c if isinstance(x.tag, str)])) if c is not None else 1


def unknown_mailbox_response(op: str, elem: etree._Element) -> str:
    """``ErrorNonExistentMailbox`` for every response message the request asks for."""
    msg = soap.error_message(op, "ErrorNonExistentMailbox", "No mailbox with such guid.")
    return soap.response(op, [msg] * request_units(op, elem))
