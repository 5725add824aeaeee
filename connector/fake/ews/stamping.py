"""The properties Exchange stamps on an item created with CreateItem (pure: plain ItemSpec in, out).

Exchange sets the store times itself (they are read-only in EWS): ``DateTimeCreated``,
``LastModifiedTime`` and, for every item saved in a folder, ``DateTimeReceived`` (the time the store
received it). A message saved with ``MessageDisposition="SaveOnly"`` is unsent: ``IsDraft`` is true and
it has no ``DateTimeSent``, unless the client sets ``PidTagMessageFlags`` (0x0E07) without ``mfUnsent``
(0x8), the documented way to save a message that is not a draft. A saved message is read (``mfRead``)
and, as the store assigns one to every message it saves, has an ``InternetMessageId``.

* https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/datetimecreated
* https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/datetimereceived
* https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/isdraft
* https://learn.microsoft.com/en-us/office/client-developer/outlook/mapi/pidtagmessageflags-canonical-property
* https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/internetmessageid
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from connector.fake.model import ItemSpec

MESSAGE_FLAGS_TAG = 0x0E07
MF_READ = 0x1
MF_UNSENT = 0x8
#: Read-only store properties: whatever a client sent, Exchange's values stand.
_STORE_TIMES = ("DateTimeCreated", "LastModifiedTime", "DateTimeReceived")


def _message_flags(spec: ItemSpec) -> int | None:
    for prop in spec.fields.get("ExtendedProperty", ()):
        tag = prop.property_tag
        if tag is None:
            continue
        try:
            if int(tag, 0) == MESSAGE_FLAGS_TAG:
                return int(prop.value)
        except ValueError:
            return None
    return None


def stamp_created(spec: ItemSpec, domain: str, now: datetime | None = None) -> ItemSpec:
    """Stamp ``spec`` (in place, and return it) as Exchange stamps an item created by CreateItem in a
    mailbox of ``domain``."""
    when = (now or datetime.now(UTC)).replace(microsecond=0)
    for name in _STORE_TIMES:
        spec.fields[name] = when
    if spec.kind == "Message":
        spec.fields.setdefault("InternetMessageId", f"<{uuid.uuid4().hex}@{domain}>")
        flags = _message_flags(spec)
        if flags is None:
            spec.fields.setdefault("IsRead", True)
            spec.fields["IsDraft"] = True
            spec.fields.pop("DateTimeSent", None)
        else:
            spec.fields.setdefault("IsRead", bool(flags & MF_READ))
            spec.fields["IsDraft"] = bool(flags & MF_UNSENT)
            if spec.fields["IsDraft"]:
                spec.fields.pop("DateTimeSent", None)
    return spec
