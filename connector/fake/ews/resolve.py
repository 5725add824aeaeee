"""ResolveNames: ambiguous name resolution over the mailboxes' contacts and the directory (the staff)."""

from __future__ import annotations

import itertools

from connector.fake.ews import soap
from connector.fake.ews.context import Ctx, M, parse_bool
from connector.fake.ews.xmlout import esc, esc_attr, mailbox_xml, xml_bool
from connector.fake.model import Mailbox


def _name_matches(query: str, name: str, email: str) -> bool:
    q = query.lower()
    if email.lower().startswith(q) or name.lower().startswith(q):
        return True
    return any(part.startswith(q) for part in name.lower().split())


def resolve_names(ctx: Ctx) -> str:
    """ResolveNames: contacts and directory entries (the staff) matching a name or address."""
    query = (ctx.elem.findtext(f"{M}UnresolvedEntry") or "").strip()
    if query.lower().startswith("smtp:"):
        query = query[5:]
    full = parse_bool(ctx.elem.get("ReturnFullContactData", "false"))
    scope = ctx.elem.get("SearchScope", "ActiveDirectoryContacts")
    results: list[str] = []
    if query and scope != "Contacts":
        for owner in ctx.server.company.mailboxes():
            if _name_matches(query, owner.name, owner.email):
                mb = Mailbox(owner.name, owner.email, "SMTP", "Mailbox")
                contact = f"<t:Contact><t:DisplayName>{esc(owner.name)}</t:DisplayName></t:Contact>" if full else ""
                results.append(f"<t:Resolution>{mailbox_xml(mb)}{contact}</t:Resolution>")
    mbx = ctx.mailbox
    if query and mbx is not None and scope != "ActiveDirectory":
        fs = mbx.folders["contacts"]
        for i in itertools.islice(fs.live_indices(), 20000):
            cur = fs.get(i)
            if cur is None:
                continue
            f = cur[0].fields
            name = str(f.get("DisplayName") or "")
            emails = [e for e in (f.get("EmailAddresses") or {}).values() if e]
            email = next((e for e in emails if _name_matches(query, name, e)), emails[0] if emails else "")
            if not _name_matches(query, name, email):
                continue
            item_id = mbx.item_id("contacts", i)
            results.append(
                "<t:Resolution><t:Mailbox>"
                f"<t:Name>{esc(name)}</t:Name><t:EmailAddress>{esc(email)}</t:EmailAddress>"
                "<t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Contact</t:MailboxType>"
                f'<t:ItemId Id="{esc_attr(item_id)}" ChangeKey="{mbx.change_key("contacts", i, cur[1])}"/>'
                "</t:Mailbox>"
                + (f"<t:Contact><t:DisplayName>{esc(name)}</t:DisplayName></t:Contact>" if full else "")
                + "</t:Resolution>"
            )
            if len(results) > 100:
                break
    if not results:
        return soap.response(
            "ResolveNames", soap.error_message("ResolveNames", "ErrorNameResolutionNoResults", "No results were found.")
        )
    total = len(results)
    shown = results[:100]
    rs = (
        f'<m:ResolutionSet TotalItemsInView="{total}" IncludesLastItemInRange="{xml_bool(total <= 100)}">'
        f"{''.join(shown)}</m:ResolutionSet>"
    )
    if total == 1:
        return soap.response("ResolveNames", soap.success("ResolveNames", rs))
    return soap.response(
        "ResolveNames",
        soap.error(
            "ResolveNames",
            "ErrorNameResolutionMultipleResults",
            "Multiple results were found.",
            rs,
            response_class="Warning",
        ),
    )
