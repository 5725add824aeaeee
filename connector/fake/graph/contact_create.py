"""Creating and deleting contacts in the fake Graph: ``POST /users/{id}/contacts`` and
``DELETE /users/{id}/contacts/{id}``.

As Microsoft documents them:

- https://learn.microsoft.com/en-us/graph/api/user-post-contacts: "Add a contact to the root Contacts
  folder"; the body is a contact object; the answer is ``201 Created`` with the new contact (its ``id``,
  ``changeKey``, ``createdDateTime``, ...). The writable properties are those a ``PATCH`` takes
  (:mod:`connector.fake.graph.contact_write`, which the create reuses, so an unknown or read-only
  property is refused here too).
- https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-post-singlevalueextendedproperties
  ("Create single-value extended property"): a new item may carry ``singleValueExtendedProperties``,
  a collection of ``{"id": ..., "value": ...}`` in the same POST; the id is ``"{type} {guid} Name {name}"``
  or ``"{type} {proptag}"``, the value always a string. The fake stores them as the EWS item's extended
  properties, so EWS and Graph read the same stamp.
- https://learn.microsoft.com/en-us/graph/api/contact-delete: ``204 No Content``; the contact goes to
  Deleted Items (the fake, which keeps no Deleted Items folder for contacts, removes it), and a
  contact that is not there is ``404``.
"""

from __future__ import annotations

from typing import Any

from connector.fake.graph.contact_write import contact_update
from connector.fake.graph.context import Ctx
from connector.fake.graph.items import _contact_json, _locate
from connector.fake.graph.render import ews_id, parse_prop_id, rest_id
from connector.fake.graph.replies import Reply, bad_request, not_found
from connector.fake.model import ExtendedProp, ItemSpec

FOLDER = "contacts"


def _extended(value: Any) -> tuple[ExtendedProp, ...]:
    """``singleValueExtendedProperties`` of a new item -> the EWS extended properties it stores."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise bad_request("The property 'singleValueExtendedProperties' must be an array of objects.")
    out: list[ExtendedProp] = []
    for entry in value:
        plain = {k: v for k, v in entry.items() if not k.startswith("@odata.")}
        if set(plain) != {"id", "value"} or not isinstance(plain["id"], str) or not isinstance(plain["value"], str):
            raise bad_request("Each singleValueExtendedProperty needs an 'id' and a string 'value'.")
        try:
            pid = parse_prop_id(plain["id"])
        except ValueError as exc:
            raise bad_request(str(exc)) from None
        if pid.tag is not None:
            out.append(ExtendedProp(pid.type, plain["value"], property_tag=f"0x{pid.tag:04x}"))
        else:
            out.append(ExtendedProp(pid.type, plain["value"], property_set_id=pid.guid, property_name=pid.name))
    return tuple(out)


def contact_create(ctx: Ctx) -> Reply:
    """``POST /users/{id}/contacts``: 201 with the new contact."""
    mb = ctx.mb
    data = ctx.json_object()
    extended = _extended(data.get("singleValueExtendedProperties"))
    body = {k: v for k, v in data.items() if k != "singleValueExtendedProperties"}
    fields = {k: v for k, v in contact_update({}, body).items() if v is not None}
    if extended:
        fields["ExtendedProperty"] = extended
    new_id = mb.create(FOLDER, ItemSpec("Contact", fields))
    ctx.server.stats.write(ctx.address, "create")
    _, ref, spec, version = _locate(mb, rest_id(new_id), FOLDER)
    return Reply(201, _contact_json(ctx, ref, spec, version))


def contact_delete(ctx: Ctx) -> Reply:
    """``DELETE /users/{id}/contacts/{id}``: 204; 404 when the contact is not there."""
    mb = ctx.mb
    rest = ctx.req.segments[3]
    with mb.lock:
        _, _ref, spec, _version = _locate(mb, rest, FOLDER)
        if spec.kind != "Contact":
            raise not_found()
        mb.delete(ews_id(rest))
    ctx.server.stats.write(ctx.address, "delete")
    return Reply(204)
