"""Get/Create/Update/DeleteUserConfiguration (Outlook's master category list and friends)."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from lxml import etree

from connector.fake.ews import soap
from connector.fake.ews.context import Ctx, M, SoapFault, T, local_name
from connector.fake.ews.folders import FOLDER_ERRORS, folder_target
from connector.fake.ews.xmlout import esc_attr
from connector.fake.mailbox import InvalidId, MailboxStore, folder_change_key
from connector.fake.userconfig import UserConfig

NOT_FOUND = "The specified object was not found in the store."


def _user_config_target(ctx: Ctx, name_elem: etree._Element | None) -> tuple[MailboxStore, str, str]:
    """A UserConfigurationName -> (mailbox, folder key, name); LookupError carries the response code."""
    if name_elem is None or not name_elem.get("Name"):
        raise SoapFault("ErrorSchemaValidation", "UserConfigurationName is required.")
    folder = next((c for c in name_elem if isinstance(c.tag, str)), None)
    if folder is None or local_name(folder.tag) not in ("FolderId", "DistinguishedFolderId"):
        raise LookupError("ErrorFolderNotFound")
    try:
        mb, key = folder_target(ctx, folder)
    except InvalidId as exc:
        raise LookupError("ErrorInvalidIdMalformed") from exc
    return mb, key, name_elem.get("Name", "")


def _user_config_error(op: str, exc: LookupError) -> str:
    code = str(exc.args[0])
    return soap.error(op, code, FOLDER_ERRORS.get(code, NOT_FOUND))


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def get_user_configuration(ctx: Ctx) -> str:
    """GetUserConfiguration: a stored user configuration (dictionary, XML and binary data, as asked)."""
    op = "GetUserConfiguration"
    try:
        mb, key, name = _user_config_target(ctx, ctx.elem.find(f"{M}UserConfigurationName"))
    except LookupError as exc:
        return soap.response(op, _user_config_error(op, exc))
    config = ctx.server.user_configs.get(mb.number, key, name)
    if config is None:
        return soap.response(op, soap.error(op, "ErrorItemNotFound", NOT_FOUND))
    wanted = set((ctx.elem.findtext(f"{M}UserConfigurationProperties") or "").split())
    everything = "All" in wanted
    item_id = _b64encode(f"UCfg:{mb.number}:{key}:{name}".encode())
    change_key = _b64encode(f"UCck:{mb.number}:{key}:{name}:{config.version}".encode())
    parts = [
        f'<m:UserConfiguration><t:UserConfigurationName Name="{esc_attr(name)}">'
        f'<t:FolderId Id="{mb.folder_id(key)}" ChangeKey="{folder_change_key(mb.number, key)}"/>'
        "</t:UserConfigurationName>"
    ]
    if everything or "Id" in wanted:
        parts.append(f'<t:ItemId Id="{item_id}" ChangeKey="{change_key}"/>')
    if (everything or "Dictionary" in wanted) and config.dictionary_xml is not None:
        parts.append(config.dictionary_xml)
    if (everything or "XmlData" in wanted) and config.xml_data is not None:
        parts.append(f"<t:XmlData>{_b64encode(config.xml_data)}</t:XmlData>")
    if (everything or "BinaryData" in wanted) and config.binary_data is not None:
        parts.append(f"<t:BinaryData>{_b64encode(config.binary_data)}</t:BinaryData>")
    parts.append("</m:UserConfiguration>")
    return soap.response(op, soap.success(op, "".join(parts)))


def _user_config_parts(elem: etree._Element) -> dict[str, Any]:
    """The parts a UserConfiguration element carries (absent parts are left out of the dict)."""
    parts: dict[str, Any] = {}
    dictionary = elem.find(f"{T}Dictionary")
    if dictionary is not None:
        parts["dictionary_xml"] = etree.tostring(dictionary, encoding="unicode")
    for tag, attr in (("XmlData", "xml_data"), ("BinaryData", "binary_data")):
        text = elem.findtext(f"{T}{tag}")
        if text is not None:
            parts[attr] = base64.b64decode(text)
    return parts


def _write_user_configuration(ctx: Ctx, create: bool) -> str:
    op = "CreateUserConfiguration" if create else "UpdateUserConfiguration"
    config_elem = ctx.elem.find(f"{M}UserConfiguration")
    if config_elem is None:
        raise SoapFault("ErrorSchemaValidation", "UserConfiguration is required.")
    try:
        mb, key, name = _user_config_target(ctx, config_elem.find(f"{T}UserConfigurationName"))
    except LookupError as exc:
        return soap.response(op, _user_config_error(op, exc))
    store = ctx.server.user_configs
    with mb.lock:
        old = store.get(mb.number, key, name)
        if create and old is not None:
            return soap.response(op, soap.error(op, "ErrorItemSave", "The user configuration already exists."))
        if not create and old is None:
            return soap.response(op, soap.error(op, "ErrorItemNotFound", NOT_FOUND))
        store.put(mb.number, key, name, replace(old or UserConfig(), **_user_config_parts(config_elem)))
    ctx.server.stats.write(ctx.mailbox_address, "create" if create else "update")
    return soap.response(op, soap.success(op))


def create_user_configuration(ctx: Ctx) -> str:
    """CreateUserConfiguration: store a new user configuration on a folder."""
    return _write_user_configuration(ctx, create=True)


def update_user_configuration(ctx: Ctx) -> str:
    """UpdateUserConfiguration: replace the parts of a user configuration the request carries."""
    return _write_user_configuration(ctx, create=False)


def delete_user_configuration(ctx: Ctx) -> str:
    """DeleteUserConfiguration: remove a user configuration."""
    op = "DeleteUserConfiguration"
    try:
        mb, key, name = _user_config_target(ctx, ctx.elem.find(f"{M}UserConfigurationName"))
    except LookupError as exc:
        return soap.response(op, _user_config_error(op, exc))
    if not ctx.server.user_configs.delete(mb.number, key, name):
        return soap.response(op, soap.error(op, "ErrorItemNotFound", NOT_FOUND))
    ctx.server.stats.write(ctx.mailbox_address, "delete")
    return soap.response(op, soap.success(op))
