"""The extended property the tests stamp on items, registered once per process.

exchangelib's ``register`` is class-global and raises on a second registration of the same name, so
every test module imports this helper instead of registering by itself.
"""

from __future__ import annotations

from exchangelib import Contact, ExtendedProperty, Task

from .company import OUR_SET

FIELD = "relsync_id"


class RelsyncId(ExtendedProperty):  # type: ignore[misc]  # exchangelib ships no types
    property_set_id = OUR_SET
    property_name = "relsync-id"
    property_type = "String"


def register() -> None:
    for cls in (Task, Contact):
        if FIELD not in {f.name for f in cls.FIELDS}:
            cls.register(FIELD, RelsyncId)


register()
