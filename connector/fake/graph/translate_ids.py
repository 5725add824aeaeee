"""``POST /users/{u}/translateExchangeIds``: EWS ids -> Graph (REST) ids, as Graph converts them.

Body ``{"inputIds": [...], "sourceIdType": "ewsId", "targetIdType": "restImmutableEntryId"}`` (1..1000 ids);
answer ``{"value": [{"sourceId": "...", "targetId": "..."}]}`` in the order asked. As in Graph, an id is
translated only when it names an item of this mailbox that still exists (a series' occurrence: its series
still exists); any other id (malformed, another mailbox's, deleted) is left out of the answer, and the
call still succeeds. The fake's REST id of an item is its EWS id in the URL-safe alphabet
(:func:`connector.fake.graph.render.rest_id`), so a translation is always exactly that conversion.

Microsoft documents the call for delegated permissions only ("Application: Not supported", v1.0 and beta),
and every token the fake accepts is an app's: the call is refused with 403 ``ErrorAccessDenied`` unless
the FakeGraph was made with ``translate_ids_app_only=True`` (a future Graph that allows it, or standing in
for a delegated token).
"""

from __future__ import annotations

from typing import Any

from connector.fake.graph.context import Ctx
from connector.fake.graph.render import ews_id, rest_id
from connector.fake.graph.replies import GraphError, Reply, bad_request
from connector.fake.mailbox import InvalidId, MailboxStore

MAX_IDS = 1000
APP_ONLY_MESSAGE = (
    "Access is denied. translateExchangeIds requires delegated permissions (User.ReadBasic.All); "
    "an application-only token is not supported."
)
#: Id types Graph names; the fake's EWS and entry-id forms are one, and so are its REST forms.
EWS_TYPES = frozenset({"ewsId", "entryId", "immutableEntryId"})
REST_TYPES = frozenset({"restId", "restImmutableEntryId"})


def _exists(mb: MailboxStore, ews: str) -> bool:
    try:
        fs, ref = mb.resolve(ews)
    except (InvalidId, KeyError):
        return False
    return fs.get(ref.index) is not None


def handle(ctx: Ctx) -> Reply:
    if not ctx.server.translate_ids_app_only:
        raise GraphError(403, "ErrorAccessDenied", APP_ONLY_MESSAGE)
    data = ctx.json_object()
    ids = data.get("inputIds")
    source, target = data.get("sourceIdType"), data.get("targetIdType")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise bad_request("'inputIds' must be a non-empty array of strings.")
    if len(ids) > MAX_IDS:
        raise bad_request(f"'inputIds' holds {len(ids)} ids; at most {MAX_IDS} are allowed.")
    known = EWS_TYPES | REST_TYPES
    if source not in known or target not in known:
        raise bad_request(f"Invalid sourceIdType '{source}' or targetIdType '{target}'.")
    value: list[dict[str, Any]] = []
    for given in ids:
        ews = ews_id(given) if source in REST_TYPES else given
        if (source in EWS_TYPES and given != ews_id(given)) or not _exists(ctx.mb, ews):
            continue  # not an id of this form, or no such item here: left out, as Graph does
        value.append({"sourceId": given, "targetId": rest_id(ews) if target in REST_TYPES else ews})
    context = f"{ctx.server.base_url}/$metadata#Collection(microsoft.graph.convertIdResult)"
    return Reply(200, {"@odata.context": context, "value": value})
