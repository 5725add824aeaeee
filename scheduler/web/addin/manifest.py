"""The add-in's manifests for a relsync at ``url``: the add-in-only XML manifest and the unified JSON one.

- **XML** ("Office Add-ins XML manifest", https://learn.microsoft.com/en-us/office/dev/add-ins/develop/xml-manifest):
  ``OfficeApp`` ``xsi:type="MailApp"`` with its children in the schema's order (Id, Version, ProviderName,
  DefaultLocale, DisplayName, Description, IconUrl, HighResolutionIconUrl, SupportUrl, AppDomains, Hosts,
  Requirements, FormSettings, Permissions, Rule, DisableEntityHighlighting, VersionOverrides); ItemRead and
  ItemEdit forms; activation on messages and appointments, read and compose; ``VersionOverrides`` 1.0
  wrapping 1.1 with a ribbon button on each surface opening the pane with ``SupportsPinning``. Works on
  Exchange Server 2016/2019/SE (``New-App -FileData``) and Microsoft 365.
- **Unified JSON** ("Unified manifest for Microsoft 365",
  https://learn.microsoft.com/en-us/office/dev/add-ins/develop/json-manifest-overview): schema 1.17,
  ``extensions`` with a ``mail`` runtime, a pinnable ``openPage`` action, ribbons for read, compose and
  meetings, and the ``MailboxItem.Read.User`` resource-specific permission. Microsoft 365 only.

**Permission**: ``ReadItem`` (``MailboxItem.Read.User``): the pane reads the item's from, to, cc, organizer
and attendees (also in compose mode, through ``getAsync``) and asks for an identity token; it never
writes to the item, so ``ReadWriteItem`` is not needed. Every URL is HTTPS.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

NS = "http://schemas.microsoft.com/office/appforoffice/1.1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
BT = "http://schemas.microsoft.com/office/officeappbasictypes/1.0"
VO = "http://schemas.microsoft.com/office/mailappversionoverrides"
VO11 = "http://schemas.microsoft.com/office/mailappversionoverrides/1.1"
MAILBOX_MIN_VERSION = "1.5"  # getUserIdentityTokenAsync, ItemChanged for pinned panes (Mailbox 1.5)
VERSION = "1.0.0.0"
PERMISSION = "ReadItem"
#: The ribbon surfaces: (extension point, what it is for).
SURFACES = (
    ("MessageReadCommandSurface", "Read"),
    ("MessageComposeCommandSurface", "Compose"),
    ("AppointmentAttendeeCommandSurface", "Attendee"),
    ("AppointmentOrganizerCommandSurface", "Organizer"),
)
#: The schema's order of OfficeApp's children for a mail add-in (what the test checks the XML against).
XML_ORDER = (
    "Id",
    "Version",
    "ProviderName",
    "DefaultLocale",
    "DisplayName",
    "Description",
    "IconUrl",
    "HighResolutionIconUrl",
    "SupportUrl",
    "AppDomains",
    "Hosts",
    "Requirements",
    "FormSettings",
    "Permissions",
    "Rule",
    "DisableEntityHighlighting",
    "VersionOverrides",
)

#: The tooltip of the pane's button, the same in both manifests.
_PANE_DESCRIPTION = "Show what relsync knows about the people on this item."


class ManifestError(ValueError):
    """The base address cannot serve an add-in (not HTTPS, or not a plain origin)."""


def base_url(url: str) -> str:
    """``https://host[:port][/path]`` without a trailing slash; ManifestError with the fix otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ManifestError(
            f"{url!r} is not an https:// address: Outlook only loads add-ins over HTTPS (give the "
            "address relsync serve is reached at, e.g. https://relsync.example.com)"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ManifestError(f"{url!r} has a query, fragment or user name: give only https://host[/path]")
    return f"https://{parts.netloc}{parts.path.rstrip('/')}"


def add_in_id(base: str) -> str:
    """A stable GUID per deployment address (the same manifest again updates, not duplicates, the add-in)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"relsync-addin:{base}"))


def _sub(parent: etree._Element, tag: str, text: str | None = None, ns: str = NS, **attrs: str) -> etree._Element:
    e = etree.SubElement(parent, f"{{{ns}}}{tag}")
    for k, v in attrs.items():
        e.set(f"{{{XSI}}}type" if k == "xsi_type" else k, v)
    if text is not None:
        e.text = text
    return e


def xml_manifest(url: str) -> bytes:
    """The add-in-only XML manifest for relsync at ``url`` (UTF-8 bytes)."""
    base = base_url(url)
    pane = f"{base}/addin/pane.html"
    root = etree.Element(f"{{{NS}}}OfficeApp", nsmap={None: NS, "xsi": XSI, "bt": BT, "mailappor": VO})
    root.set(f"{{{XSI}}}type", "MailApp")
    _sub(root, "Id", add_in_id(base))
    _sub(root, "Version", VERSION)
    _sub(root, "ProviderName", "relsync")
    _sub(root, "DefaultLocale", "en-US")
    _sub(root, "DisplayName", DefaultValue="relsync")
    _sub(
        root,
        "Description",
        DefaultValue="The relationship card beside every message and meeting: value, owner, "
        "last interactions and what is due.",
    )
    _sub(root, "IconUrl", DefaultValue=f"{base}/addin/icon-64.png")
    _sub(root, "HighResolutionIconUrl", DefaultValue=f"{base}/addin/icon-128.png")
    _sub(root, "SupportUrl", DefaultValue=f"{base}/")
    _sub(_sub(root, "AppDomains"), "AppDomain", base)
    _sub(_sub(root, "Hosts"), "Host", Name="Mailbox")
    _sub(_sub(_sub(root, "Requirements"), "Sets"), "Set", Name="Mailbox", MinVersion=MAILBOX_MIN_VERSION)
    forms = _sub(root, "FormSettings")
    for form in ("ItemRead", "ItemEdit"):
        desktop = _sub(_sub(forms, "Form", xsi_type=form), "DesktopSettings")
        _sub(desktop, "SourceLocation", DefaultValue=pane)
        if form == "ItemRead":
            _sub(desktop, "RequestedHeight", "360")
    _sub(root, "Permissions", PERMISSION)
    rules = _sub(root, "Rule", xsi_type="RuleCollection", Mode="Or")
    for item in ("Message", "Appointment"):
        for form_type in ("Read", "Edit"):
            _sub(rules, "Rule", xsi_type="ItemIs", ItemType=item, FormType=form_type)
    _sub(root, "DisableEntityHighlighting", "true")
    # Each VersionOverrides declares its namespace as the default, so that its unprefixed xsi:type names a
    # type of that namespace (under the root's default namespace, the schemas find no VersionOverridesV1_0).
    outer = etree.SubElement(root, f"{{{VO}}}VersionOverrides", nsmap={None: VO})
    outer.set(f"{{{XSI}}}type", "VersionOverridesV1_0")
    vo = etree.SubElement(outer, f"{{{VO11}}}VersionOverrides", nsmap={None: VO11})
    vo.set(f"{{{XSI}}}type", "VersionOverridesV1_1")
    sets = _sub(_sub(vo, "Requirements", ns=VO11), "Sets", ns=BT, DefaultMinVersion=MAILBOX_MIN_VERSION)
    _sub(sets, "Set", ns=BT, Name="Mailbox")
    factor = _sub(_sub(_sub(vo, "Hosts", ns=VO11), "Host", ns=VO11, xsi_type="MailHost"), "DesktopFormFactor", ns=VO11)
    for surface, label in SURFACES:
        point = _sub(factor, "ExtensionPoint", ns=VO11, xsi_type=surface)
        group = _sub(_sub(point, "OfficeTab", ns=VO11, id="TabDefault"), "Group", ns=VO11, id=f"relsync{label}Group")
        _sub(group, "Label", ns=VO11, resid="relsync.group")
        control = _sub(group, "Control", ns=VO11, xsi_type="Button", id=f"relsync{label}Button")
        _sub(control, "Label", ns=VO11, resid="relsync.button")
        tip = _sub(control, "Supertip", ns=VO11)
        _sub(tip, "Title", ns=VO11, resid="relsync.button")
        _sub(tip, "Description", ns=VO11, resid="relsync.tip")
        icon = _sub(control, "Icon", ns=VO11)
        for size in ("16", "32", "80"):
            _sub(icon, "Image", ns=BT, size=size, resid=f"relsync.icon{size}")
        action = _sub(control, "Action", ns=VO11, xsi_type="ShowTaskpane")
        _sub(action, "SourceLocation", ns=VO11, resid="relsync.pane")
        _sub(action, "SupportsPinning", "true", ns=VO11)
    resources = _sub(vo, "Resources", ns=VO11)
    images = _sub(resources, "Images", ns=BT)
    for size in ("16", "32", "80"):
        _sub(images, "Image", ns=BT, id=f"relsync.icon{size}", DefaultValue=f"{base}/addin/icon-{size}.png")
    _sub(_sub(resources, "Urls", ns=BT), "Url", ns=BT, id="relsync.pane", DefaultValue=pane)
    shorts = _sub(resources, "ShortStrings", ns=BT)
    _sub(shorts, "String", ns=BT, id="relsync.group", DefaultValue="relsync")
    _sub(shorts, "String", ns=BT, id="relsync.button", DefaultValue="Relationship")
    _sub(
        _sub(resources, "LongStrings", ns=BT),
        "String",
        ns=BT,
        id="relsync.tip",
        DefaultValue=_PANE_DESCRIPTION,
    )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def json_manifest(url: str, api_client_id: str | None = None) -> dict[str, Any]:
    """The unified manifest (Microsoft 365): ``api_client_id`` is relsync's API app registration, named in
    ``webApplicationInfo`` for nested app authentication when given."""
    base = base_url(url)
    pane = f"{base}/addin/pane.html"
    icons = [{"size": s, "url": f"{base}/addin/icon-{s}.png"} for s in (16, 32, 80)]
    host = urlsplit(base).netloc
    manifest: dict[str, Any] = {
        "$schema": "https://developer.microsoft.com/json-schemas/teams/v1.17/MicrosoftTeams.schema.json",
        "manifestVersion": "1.17",
        "version": "1.0.0",
        "id": add_in_id(base),
        "localizationInfo": {"defaultLanguageTag": "en-us"},
        "developer": {
            "name": "relsync",
            "websiteUrl": f"{base}/",
            "privacyUrl": f"{base}/",
            "termsOfUseUrl": f"{base}/",
        },
        "name": {"short": "relsync", "full": "relsync relationship card"},
        "description": {
            "short": "The relationship card beside every message and meeting.",
            "full": "What the organisation knows about the people on a message or meeting: value, "
            "owner, last interactions across staff mailboxes, the open follow-up.",
        },
        "icons": {"outline": "outline.png", "color": "color.png"},
        "accentColor": "#0F6CBD",
        "validDomains": [host],
        "authorization": {
            "permissions": {"resourceSpecific": [{"name": "MailboxItem.Read.User", "type": "Delegated"}]}
        },
        "extensions": [
            {
                "requirements": {
                    "scopes": ["mail"],
                    "capabilities": [{"name": "Mailbox", "minVersion": MAILBOX_MIN_VERSION}],
                },
                "runtimes": [
                    {
                        "requirements": {"capabilities": [{"name": "Mailbox", "minVersion": MAILBOX_MIN_VERSION}]},
                        "id": "TaskPaneRuntime",
                        "type": "general",
                        "code": {"page": pane},
                        "lifetime": "short",
                        "actions": [{"id": "openPane", "type": "openPage", "view": "relsyncCard", "pinnable": True}],
                    }
                ],
                "ribbons": [
                    {
                        "contexts": ["mailRead", "mailCompose", "meetingDetailsAttendee", "meetingDetailsOrganizer"],
                        "tabs": [
                            {
                                "builtInTabId": "TabDefault",
                                "groups": [
                                    {
                                        "id": "relsyncGroup",
                                        "label": "relsync",
                                        "icons": icons,
                                        "controls": [
                                            {
                                                "id": "relsyncButton",
                                                "type": "button",
                                                "label": "Relationship",
                                                "icons": icons,
                                                "supertip": {
                                                    "title": "Relationship",
                                                    "description": _PANE_DESCRIPTION,
                                                },
                                                "actionId": "openPane",
                                            }
                                        ],
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }
    if api_client_id:
        manifest["webApplicationInfo"] = {"id": api_client_id, "resource": f"api://{host}/{api_client_id}"}
    return manifest


def json_manifest_text(url: str, api_client_id: str | None = None) -> str:
    return json.dumps(json_manifest(url, api_client_id), indent=2) + "\n"
