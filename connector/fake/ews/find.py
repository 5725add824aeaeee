"""FindItem: paged item views, CalendarView expansion, Restriction, SortOrder and QueryString."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime

from connector.fake.ews import restrictions, soap
from connector.fake.ews.context import MAX_CALENDAR_VIEW, Ctx, M, SoapFault, parse_datetime
from connector.fake.ews.folders import FOLDER_ERRORS, folder_target
from connector.fake.ews.render import KIND_DEFAULTS, Renderer, parse_shape
from connector.fake.ews.xmlout import xml_bool
from connector.fake.mailbox import InvalidId
from connector.fake.model import ItemSpec
from connector.fake.recurrence import occurrence_values, occurrences


def find_item(ctx: Ctx) -> str:
    """FindItem: one page of a folder's items (or a CalendarView's expanded occurrences)."""
    mb = ctx.require_mailbox()
    elem = ctx.elem
    r = Renderer(mb, parse_shape(elem.find(f"{M}ItemShape")))
    parents = elem.find(f"{M}ParentFolderIds")
    if parents is None or not len(parents):
        raise SoapFault("ErrorInvalidRequest", "ParentFolderIds is required.")
    try:
        mb2, key = folder_target(ctx, parents[0])
    except InvalidId:
        return soap.response("FindItem", soap.error_message("FindItem", "ErrorInvalidIdMalformed", "Id is malformed."))
    except LookupError as exc:
        code = str(exc.args[0])
        return soap.response("FindItem", soap.error_message("FindItem", code, FOLDER_ERRORS[code]))
    fs = mb2.folders.get(key)
    restriction = elem.find(f"{M}Restriction")
    if restriction is not None and not len(restriction):
        restriction = None
    cal_view = elem.find(f"{M}CalendarView")
    paged = elem.find(f"{M}IndexedPageItemView")
    query = elem.find(f"{M}QueryString")
    for unsupported in (
        "GroupBy",
        "DistinguishedGroupBy",
        "ContactsView",
        "FractionalPageItemView",
        "SeekToConditionPageItemView",
    ):
        if elem.find(f"{M}{unsupported}") is not None:
            return soap.response(
                "FindItem",
                soap.error_message(
                    "FindItem", "ErrorInvalidOperation", f"The fake Exchange does not support FindItem {unsupported}."
                ),
            )
    try:
        if restriction is not None:
            restrictions.validate(restriction[0])
        orders = restrictions.sort_orders(elem.find(f"{M}SortOrder"))
        aqs = restrictions.parse_aqs(query.text or "") if query is not None else None
    except restrictions.QueryRefused as refused:
        return soap.response("FindItem", soap.error_message("FindItem", refused.code, refused.message))

    def candidates() -> Iterator[tuple[int, ItemSpec, int]]:
        if fs is None:
            return
        for i in fs.live_indices():
            cur = fs.get(i)
            if cur is None:
                continue
            if restriction is not None or aqs is not None:
                values = restrictions.item_values(cur[0], KIND_DEFAULTS[cur[0].kind], mb2.address)
                if restriction is not None and not restrictions.matches(restriction[0], values):
                    continue
                if aqs is not None and not restrictions.aqs_matches(aqs, values):
                    continue
            yield i, cur[0], cur[1]

    if cal_view is not None and orders:
        return soap.response(
            "FindItem",
            soap.error_message(
                "FindItem", "ErrorUnsupportedPathForSortGroup", "A CalendarView comes sorted by start; no SortOrder."
            ),
        )
    if cal_view is not None:
        start, end = parse_datetime(cal_view.get("StartDate")), parse_datetime(cal_view.get("EndDate"))
        if end < start:
            return soap.response(
                "FindItem",
                soap.error_message(
                    "FindItem", "ErrorCalendarEndDateIsEarlierThanStartDate", "EndDate is earlier than StartDate"
                ),
            )
        if end - start > MAX_CALENDAR_VIEW:
            return soap.response(
                "FindItem",
                soap.error_message("FindItem", "ErrorCalendarViewRangeTooBig", "The calendar view range is too big."),
            )
        max_entries = int(cal_view.get("MaxEntriesReturned", "0") or 0)
        hits: list[tuple[datetime, str]] = []
        for i, spec, version in candidates():
            if spec.kind != "CalendarItem":
                continue
            if spec.fields.get("Recurrence") is None:
                s, e = spec.fields.get("Start"), spec.fields.get("End")
                if s is not None and e is not None and s < end and e > start:
                    hits.append((s, r.item(key, i, spec, version)))
                continue
            for occ in occurrences(spec):
                if occ.deleted:
                    continue
                v = occurrence_values(spec, occ)
                if v["Start"] < end and v["End"] > start:
                    hits.append((v["Start"], r.occurrence(key, i, spec, occ, version)))
        hits.sort(key=lambda h: h[0])
        total = len(hits)
        shown = hits[:max_entries] if max_entries else hits  # a CalendarView cannot page: the rest is cut off
        items = "".join(h[1] for h in shown)
        return soap.response(
            "FindItem",
            soap.success(
                "FindItem",
                f'<m:RootFolder TotalItemsInView="{total}" IncludesLastItemInRange="{xml_bool(len(shown) == total)}">'
                f"<t:Items>{items}</t:Items></m:RootFolder>",
            ),
        )
    max_entries = int(paged.get("MaxEntriesReturned", "100") or 100) if paged is not None else 1000
    offset = int(paged.get("Offset", "0") or 0) if paged is not None else 0
    from_end = paged is not None and paged.get("BasePoint", "Beginning") == "End"
    filtered = restriction is not None or aqs is not None or orders
    all_hits = list(candidates()) if (filtered or from_end) else None
    if all_hits is not None:
        if orders:
            try:
                all_hits = restrictions.sort(
                    all_hits, orders, lambda h: restrictions.item_values(h[1], KIND_DEFAULTS[h[1].kind], mb2.address)
                )
            except restrictions.QueryRefused as refused:
                return soap.response("FindItem", soap.error_message("FindItem", refused.code, refused.message))
        total = len(all_hits)
        seq = all_hits[::-1] if from_end else all_hits
        page = seq[offset : offset + max_entries]
    else:
        total = fs.count() if fs is not None else 0
        page = []
        if fs is not None:  # page by index: only the items on the page are read from the lazy base
            for i in itertools.islice(fs.live_indices(), offset, offset + max_entries):
                cur = fs.get(i)
                if cur is not None:
                    page.append((i, cur[0], cur[1]))
    items = "".join(r.item(key, i, spec, version) for i, spec, version in page)
    next_offset = offset + len(page)
    last = next_offset >= total
    return soap.response(
        "FindItem",
        soap.success(
            "FindItem",
            f'<m:RootFolder IndexedPagingOffset="{next_offset}" TotalItemsInView="{total}" '
            f'IncludesLastItemInRange="{xml_bool(last)}"><t:Items>{items}</t:Items></m:RootFolder>',
        ),
    )
