"""User configuration objects (FAI messages) of the fake mailboxes: what EWS's *UserConfiguration serve.

Exchange keeps small per-folder settings blobs as "user configurations": a name on a folder, with an
optional dictionary, XML data and binary data. Outlook keeps the mailbox's **master category list** in
the one named ``CategoryList`` on the Calendar folder, as XML data::

    <categories default="Red category" ... xmlns="CategoryList.xsd">
      <category name="Red category" color="0" keyboardShortcut="0" guid="{...}" renameOnFirstUse="1" .../>
    </categories>

Every fake mailbox starts with Outlook's six default colour categories there (as a mailbox that has
been opened in Outlook once). The dictionary is kept as the raw ``t:Dictionary`` XML it was sent as.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace

from connector.fake.ews.xmlout import esc_attr

CATEGORY_LIST = "CategoryList"
CATEGORY_LIST_FOLDER = "calendar"
CATEGORY_LIST_NS = "CategoryList.xsd"

#: Outlook's default categories and their colour indexes (0 red, 1 orange, 3 yellow, 4 green, 7 blue, 8 purple).
DEFAULT_CATEGORIES: tuple[tuple[str, int], ...] = (
    ("Red category", 0),
    ("Orange category", 1),
    ("Yellow category", 3),
    ("Green category", 4),
    ("Blue category", 7),
    ("Purple category", 8),
)
_NEVER = "1601-01-01T00:00:00.000"


def category_list_xml(categories: Iterable[tuple[str, int]], seed: str = "") -> bytes:
    """A CategoryList XML document as Outlook writes it (the attributes Outlook 2016 sets)."""
    parts = []
    for name, color in categories:
        guid = uuid.uuid5(uuid.NAMESPACE_URL, f"relsync-fake:{seed}:{name}")
        parts.append(
            f'<category name="{esc_attr(name)}" color="{int(color)}" keyboardShortcut="0" usageCount="0" '
            f'lastTimeUsedNotes="{_NEVER}" lastTimeUsedJournal="{_NEVER}" lastTimeUsedContacts="{_NEVER}" '
            f'lastTimeUsedTasks="{_NEVER}" lastTimeUsedCalendar="{_NEVER}" lastTimeUsedMail="{_NEVER}" '
            f'lastTimeUsed="{_NEVER}" lastSessionUsed="0" guid="{{{str(guid).upper()}}}" renameOnFirstUse="1"/>'
        )
    return (
        '<?xml version="1.0"?>'
        f'<categories default="Red category" lastSavedSession="0" lastSavedTime="{_NEVER}" '
        f'xmlns="{CATEGORY_LIST_NS}">{"".join(parts)}</categories>'
    ).encode()


@dataclass(frozen=True)
class UserConfig:
    """One stored user configuration; ``version`` moves on every write (its ChangeKey)."""

    dictionary_xml: str | None = None
    xml_data: bytes | None = None
    binary_data: bytes | None = None
    version: int = 0


class UserConfigStore:
    """Every mailbox's user configurations, keyed by (mailbox number, folder key, name). Thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._configs: dict[tuple[int, str, str], UserConfig] = {}

    def seed_category_list(self, mailbox: int, address: str) -> None:
        self.put(
            mailbox,
            CATEGORY_LIST_FOLDER,
            CATEGORY_LIST,
            UserConfig(xml_data=category_list_xml(DEFAULT_CATEGORIES, address)),
        )

    def get(self, mailbox: int, folder: str, name: str) -> UserConfig | None:
        with self.lock:
            return self._configs.get((mailbox, folder, name))

    def put(self, mailbox: int, folder: str, name: str, config: UserConfig) -> UserConfig:
        with self.lock:
            old = self._configs.get((mailbox, folder, name))
            stored = replace(config, version=(old.version + 1) if old else 0)
            self._configs[(mailbox, folder, name)] = stored
            return stored

    def delete(self, mailbox: int, folder: str, name: str) -> bool:
        with self.lock:
            return self._configs.pop((mailbox, folder, name), None) is not None
