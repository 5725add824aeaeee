"""Outlook contacts relsync creates over Microsoft Graph (``relsync import contacts --to-outlook``).

The contact carries our id as a single-value extended property in relsync's own property set, named
``relsync-contact-id`` (:data:`OUR_ID_PROPERTY`): the property the EWS backend stamps
(:class:`connector.ews.contacts_write.RelsyncContactId`), so a mailbox moved between backends keeps
its stamps. Creation POSTs the contact with the property in the same body, 20 to a ``$batch``
(https://learn.microsoft.com/en-us/graph/api/user-post-contacts,
https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-post-singlevalueextendedproperties).
Finding our contacts again reads the Contacts folder's delta with the property expanded (every page:
it runs only when a creation's outcome is unknown). Removal reads each contact's ``changeKey`` and
DELETEs only those still as relsync left them (https://learn.microsoft.com/en-us/graph/api/contact-delete).

The request bodies are plain functions, tested without I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from connector.errors import ExchangeError, ExchangeProtocolError
from connector.graph.client import BatchRequest
from connector.graph.write_bodies import change_key_of
from connector.writer import ContactRemoval, Created, NewContact

if TYPE_CHECKING:
    from connector.graph.writer import GraphWriter

PROPERTY_SET = "5f0c6a52-1d1e-4a53-9b43-2f6b8f4c7a1d"  # relsync's, as connector.ews.tasks.RelsyncFollowUpId
OUR_ID_PROPERTY = f"String {{{PROPERTY_SET}}} Name relsync-contact-id"


def new_contact_body(c: NewContact) -> dict[str, Any]:
    """The POST body of one new contact, stamped with our id."""
    body: dict[str, Any] = {
        "displayName": c.display_name,
        "givenName": c.given,
        "surname": c.surname,
        "companyName": c.company,
        "jobTitle": c.job_title,
        "department": c.department,
        "mobilePhone": c.mobile,
    }
    body = {k: v for k, v in body.items() if v}
    if c.emails:
        body["emailAddresses"] = [{"address": e, "name": c.display_name} for e in c.emails[:3]]
    if c.business_phones:
        body["businessPhones"] = list(c.business_phones[:2])
    body["singleValueExtendedProperties"] = [{"id": OUR_ID_PROPERTY, "value": c.our_id}]
    return body


def our_id_in(contact: Mapping[str, Any]) -> str | None:
    """Our id on a contact read with the property expanded, or None."""
    for prop in contact.get("singleValueExtendedProperties") or ():
        if (
            isinstance(prop, Mapping)
            and str(prop.get("id", "")).casefold() == OUR_ID_PROPERTY.casefold()
            and isinstance(prop.get("value"), str)
        ):
            return str(prop["value"])
    return None


def create_contacts(w: GraphWriter, contacts: Sequence[NewContact]) -> list[Created | ExchangeError]:
    path = f"{w.user_path}/contacts"
    requests = [BatchRequest(str(n), path, "POST", new_contact_body(c)) for n, c in enumerate(contacts)]
    out: list[Created | ExchangeError] = []
    for c, request, answer in zip(contacts, requests, w.batch(requests), strict=True):
        body = answer.body if isinstance(answer.body, Mapping) else {}
        item_id = body.get("id")
        if answer.ok and isinstance(item_id, str) and item_id:
            out.append(Created(c.our_id, item_id, change_key_of(body)))
        elif answer.ok:
            out.append(ExchangeProtocolError(f"Graph created contact {c.our_id} but sent no id", mailbox=w.address))
        else:
            out.append(w.error(answer, request))
    return out


def find_contacts(w: GraphWriter, our_ids: Sequence[str]) -> dict[str, Created]:
    wanted = set(our_ids)
    found: dict[str, Created] = {}
    if not wanted:
        return found
    query = {
        "$select": "id,changeKey",
        "$expand": f"singleValueExtendedProperties($filter=id eq '{OUR_ID_PROPERTY}')",
    }
    client = w.client
    answer: Any = client.get(f"{w.user_path}/contacts/delta", query)
    while True:
        for contact in (answer or {}).get("value") or ():
            if not isinstance(contact, Mapping) or "@removed" in contact:
                continue
            ours = our_id_in(contact)
            if ours in wanted and isinstance(contact.get("id"), str):
                found[ours] = Created(ours, str(contact["id"]), change_key_of(contact))
        link = (answer or {}).get("@odata.nextLink")
        if not link:
            return found
        answer = client.get_url(str(link))


def remove_contacts(w: GraphWriter, created: Sequence[Created]) -> list[ContactRemoval | ExchangeError]:
    reads = [BatchRequest(str(n), f"{w.item('contacts', c.item_id)}?$select=changeKey") for n, c in enumerate(created)]
    out: list[ContactRemoval | ExchangeError] = []
    doomed: list[int] = []
    for n, (c, request, answer) in enumerate(zip(created, reads, w.batch(reads), strict=True)):
        if answer.ok:
            now = change_key_of(answer.body) if isinstance(answer.body, Mapping) else None
            if c.change_key is not None and now != c.change_key:
                out.append("changed")
            else:
                out.append("removed")
                doomed.append(n)
        elif w.item_gone(answer, request):
            out.append("gone")
        else:
            out.append(w.error(answer, request))
    deletes = [BatchRequest(str(n), w.item("contacts", created[n].item_id), "DELETE") for n in doomed]
    for n, request, answer in zip(doomed, deletes, w.batch(deletes), strict=True):
        if not answer.ok:
            out[n] = "gone" if w.item_gone(answer, request) else w.error(answer, request)
    return out
