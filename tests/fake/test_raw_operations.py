"""Operations and shapes exchangelib rarely sends, checked with hand-written SOAP (responses still validated)."""

from __future__ import annotations

from lxml import etree

from connector.fake.ews.server import FakeExchange

from .company import ALICE
from .rawsoap import envelope, post

NS = {
    "m": "http://schemas.microsoft.com/exchange/services/2006/messages",
    "t": "http://schemas.microsoft.com/exchange/services/2006/types",
}


def call(ex: FakeExchange, body: str, mailbox: str | None = ALICE.email) -> etree._Element:
    r = post(ex, envelope(body, mailbox))
    assert r.status_code == 200, r.content[:500]
    return etree.fromstring(r.content)


def test_all_properties_and_default_shapes_serve_valid_items(fake: FakeExchange) -> None:
    mbx = fake.mailboxes[ALICE.email]
    ids = "".join(
        f'<t:ItemId Id="{i}"/>' for folder in ("contacts", "inbox", "calendar", "tasks") for i, _ in mbx.items(folder)
    )
    for shape in ("AllProperties", "Default"):
        root = call(
            fake,
            f"<m:GetItem><m:ItemShape><t:BaseShape>{shape}</t:BaseShape></m:ItemShape>"
            f"<m:ItemIds>{ids}</m:ItemIds></m:GetItem>",
        )
        assert len(root.findall(".//m:GetItemResponseMessage[@ResponseClass='Success']", NS)) == 12
    assert fake.violations == []


def test_resolve_names_with_a_mailbox_also_searches_its_contacts(fake: FakeExchange) -> None:
    root = call(
        fake,
        '<m:ResolveNames ReturnFullContactData="true"><m:UnresolvedEntry>dana</m:UnresolvedEntry></m:ResolveNames>',
    )
    assert root.findtext(".//t:Resolution/t:Mailbox/t:EmailAddress", namespaces=NS) == "dana@fabrikam.test"
    assert root.findtext(".//t:Resolution/t:Mailbox/t:MailboxType", namespaces=NS) == "Contact"
    many = call(
        fake, "<m:ResolveNames ReturnFullContactData='false'><m:UnresolvedEntry>e</m:UnresolvedEntry></m:ResolveNames>"
    )
    msg = many.find(".//m:ResolveNamesResponseMessage", NS)
    assert msg is not None and msg.get("ResponseClass") in ("Success", "Warning")


def test_append_to_item_field_appends_to_the_body(fake: FakeExchange) -> None:
    mbx = fake.mailboxes[ALICE.email]
    task_id = next(i for i, spec in mbx.items("tasks") if spec.fields.get("Body"))
    body = (
        '<m:UpdateItem ConflictResolution="AlwaysOverwrite" MessageDisposition="SaveOnly">'
        f'<m:ItemChanges><t:ItemChange><t:ItemId Id="{task_id}"/><t:Updates><t:AppendToItemField>'
        '<t:FieldURI FieldURI="item:Body"/><t:Task><t:Body BodyType="Text"> Called, left a message.</t:Body>'
        "</t:Task></t:AppendToItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"
    )
    root = call(fake, body)
    assert root.find(".//m:UpdateItemResponseMessage[@ResponseClass='Success']", NS) is not None
    spec = mbx.get(task_id)
    assert spec is not None and spec.fields["Body"] == "Renewal due in April. Called, left a message."


def test_find_folder_lists_the_tree(fake: FakeExchange) -> None:
    body = (
        '<m:FindFolder Traversal="Deep"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>'
        '<m:ParentFolderIds><t:DistinguishedFolderId Id="root"/></m:ParentFolderIds></m:FindFolder>'
    )
    root = call(fake, body)
    names = [e.text for e in root.iterfind(".//t:DisplayName", NS)]
    assert names == [
        "Top of Information Store", "Inbox", "Sent Items", "Contacts", "Calendar", "Tasks",
        "Drafts", "Deleted Items", "Junk Email", "Outbox",
    ]  # fmt: skip
