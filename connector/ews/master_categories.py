"""The mailbox's master category list: managed categories get their names and colours in Outlook, once.

Outlook keeps the master category list (names, colours, shortcuts) in the ``CategoryList`` user
configuration on the Calendar folder, as XML data (``<categories xmlns="CategoryList.xsd"><category
name=".." color="N" .../></categories>``). A category set on an item but missing from that list shows
in Outlook without a colour ("not in master category list"), so relsync adds its managed categories
with the configured colours.

Only missing names are added (compared case-insensitively, as Outlook does); an entry the user already
has, even one of ours whose colour the user changed, is left exactly as it is, and so is everything
else in the document. When nothing is missing no write is made at all. ``UpdateUserConfiguration``
carries no ChangeKey: an Outlook edit landing between our read and our write would be lost, a window
of one round trip on a list users rarely edit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from exchangelib import Account
from exchangelib import errors as ews
from lxml import etree

from connector.errors import ExchangeError
from connector.ews.errors import translate
from connector.writer import MAX_COLOUR, MIN_COLOUR

CATEGORY_LIST = "CategoryList"
CATEGORY_LIST_NS = "CategoryList.xsd"
_NEVER = "1601-01-01T00:00:00.000"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)


def add_missing_categories(xml_data: bytes | None, wanted: Sequence[tuple[str, int]]) -> tuple[bytes, list[str]]:
    """The CategoryList document with the ``wanted`` (name, colour) entries it lacks appended (pure).

    Returns the new document and the names added; with nothing added the document is returned as given.
    """
    for name, colour in wanted:
        if not name.strip():
            raise ValueError("a category name must not be empty")
        if not MIN_COLOUR <= colour <= MAX_COLOUR:
            raise ValueError(f"category {name!r}: colour {colour} is not an Outlook colour index (-1..24)")
    if xml_data:
        root = etree.fromstring(xml_data, _PARSER)
    else:
        root = etree.Element(f"{{{CATEGORY_LIST_NS}}}categories", nsmap={None: CATEGORY_LIST_NS})
    ns = etree.QName(root).namespace
    tag = f"{{{ns}}}category" if ns else "category"
    present = {str(el.get("name", "")).casefold() for el in root if isinstance(el.tag, str)}
    added: list[str] = []
    for name, colour in wanted:
        if name.casefold() in present:
            continue
        present.add(name.casefold())
        etree.SubElement(
            root,
            tag,
            {
                "name": name,
                "color": str(colour),
                "keyboardShortcut": "0",
                "usageCount": "0",
                "lastTimeUsed": _NEVER,
                "lastSessionUsed": "0",
                "guid": "{" + str(uuid.uuid4()).upper() + "}",
                "renameOnFirstUse": "0",
            },
        )
        added.append(name)
    if not added:
        return xml_data or b"", []
    return etree.tostring(root, xml_declaration=True, encoding="utf-8"), added


def ensure_master_categories(account: Account, wanted: Sequence[tuple[str, int]]) -> list[str]:
    """Add the ``wanted`` (name, colour index) categories missing from the mailbox's master list.

    One GetUserConfiguration; one Update (or Create, for a mailbox Outlook never opened) only when
    something is missing. Returns the names added.
    """
    try:
        calendar = account.calendar
        try:
            config = calendar.get_user_configuration(CATEGORY_LIST, properties="XmlData")
            current: bytes | None = config.xml_data
            exists = True
        except ews.ErrorItemNotFound:
            current, exists = None, False
        document, added = add_missing_categories(current, wanted)
        if not added:
            return []
        if exists:
            calendar.update_user_configuration(CATEGORY_LIST, xml_data=document)
        else:
            calendar.create_user_configuration(CATEGORY_LIST, xml_data=document)
        return added
    except ExchangeError:
        raise
    except Exception as exc:
        raise translate(exc, mailbox=account.primary_smtp_address) from exc
