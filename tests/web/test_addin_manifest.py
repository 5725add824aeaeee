"""`relsync addin manifest` writes manifests that follow Microsoft's documented rules.

The XML: OfficeApp's children in the schema's order, a MailApp for the Mailbox host, ItemRead and ItemEdit
forms, ReadItem (the pane only reads the item), activation on messages and appointments in read and
compose mode, VersionOverrides 1.0 wrapping 1.1 with a pinnable task pane on every surface, HTTPS only.
The unified JSON manifest: its required members, the mail scope, a pinnable action, HTTPS only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from scheduler.web.addin.manifest import (
    NS,
    VO11,
    XML_ORDER,
    ManifestError,
    add_in_id,
    json_manifest_text,
    xml_manifest,
)

URL = "https://relsync.example.com"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def _relsync(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scheduler.cli", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> etree._Element:
    """The XML manifest as the command writes it (one run for the module: starting relsync takes seconds)."""
    out = tmp_path_factory.mktemp("manifest") / "manifest.xml"
    done = _relsync("addin", "manifest", "--url", URL, "--format", "xml", "-o", str(out))
    assert done.returncode == 0, done.stderr
    return etree.fromstring(out.read_bytes())


def _local(e: etree._Element) -> str:
    return str(etree.QName(e).localname)


def test_the_xml_manifest_has_the_required_elements_in_schema_order(root: etree._Element) -> None:
    assert etree.QName(root).namespace == NS and _local(root) == "OfficeApp"
    assert root.get(XSI_TYPE) == "MailApp"
    children = [_local(c) for c in root if isinstance(c.tag, str)]
    assert children == [name for name in XML_ORDER if name in children]
    for required in (
        "Id",
        "Version",
        "ProviderName",
        "DefaultLocale",
        "DisplayName",
        "Description",
        "FormSettings",
        "Permissions",
        "Rule",
    ):
        assert required in children
    assert root.findtext(f"{{{NS}}}Id") == add_in_id(URL)
    assert root.find(f"{{{NS}}}Hosts/{{{NS}}}Host").get("Name") == "Mailbox"


def test_the_xml_manifest_reads_the_item_only_and_activates_on_messages_and_meetings(root: etree._Element) -> None:
    assert root.findtext(f"{{{NS}}}Permissions") == "ReadItem"
    rule = root.find(f"{{{NS}}}Rule")
    assert rule.get(XSI_TYPE) == "RuleCollection" and rule.get("Mode") == "Or"
    active = {(r.get("ItemType"), r.get("FormType")) for r in rule if r.get(XSI_TYPE) == "ItemIs"}
    assert active == {("Message", "Read"), ("Message", "Edit"), ("Appointment", "Read"), ("Appointment", "Edit")}
    forms = {f.get(XSI_TYPE) for f in root.iter(f"{{{NS}}}Form")}
    assert forms == {"ItemRead", "ItemEdit"}


def test_the_xml_manifest_pins_the_pane_on_every_surface_through_version_overrides_1_1(root: etree._Element) -> None:
    inner = root.find(f".//{{{VO11}}}VersionOverrides")
    assert inner is not None and inner.get(XSI_TYPE) == "VersionOverridesV1_1"
    surfaces = {p.get(XSI_TYPE) for p in inner.iter(f"{{{VO11}}}ExtensionPoint")}
    assert surfaces == {
        "MessageReadCommandSurface",
        "MessageComposeCommandSurface",
        "AppointmentAttendeeCommandSurface",
        "AppointmentOrganizerCommandSurface",
    }
    actions = list(inner.iter(f"{{{VO11}}}Action"))
    assert len(actions) == 4
    assert all(
        a.get(XSI_TYPE) == "ShowTaskpane" and a.findtext(f"{{{VO11}}}SupportsPinning") == "true" for a in actions
    )


def test_every_address_in_the_xml_manifest_is_https_on_the_given_host(root: etree._Element) -> None:
    urls = [v for e in root.iter() for k, v in e.attrib.items() if "://" in v and k != XSI_TYPE]
    urls += [e.text for e in root.iter() if isinstance(e.tag, str) and e.text and "://" in e.text]
    assert urls
    assert all(u.startswith(URL + "/") or u == URL for u in urls), urls
    assert f"{URL}/addin/pane.html" in urls


def test_the_json_manifest_has_the_unified_manifest_members_and_https_only(tmp_path: Path) -> None:
    out = tmp_path / "manifest.json"
    done = _relsync(
        "addin",
        "manifest",
        "--url",
        URL + "/",
        "--format",
        "json",
        "--api-client-id",
        "6f1a2b3c-0000-4000-8000-000000000001",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    m = json.loads(out.read_text(encoding="utf-8"))
    for member in (
        "$schema",
        "manifestVersion",
        "version",
        "id",
        "developer",
        "name",
        "description",
        "icons",
        "accentColor",
        "extensions",
        "authorization",
        "validDomains",
    ):
        assert member in m
    assert m["validDomains"] == ["relsync.example.com"]
    ext = m["extensions"][0]
    assert ext["requirements"]["scopes"] == ["mail"]
    assert ext["runtimes"][0]["actions"][0]["pinnable"] is True
    assert set(ext["ribbons"][0]["contexts"]) == {
        "mailRead",
        "mailCompose",
        "meetingDetailsAttendee",
        "meetingDetailsOrganizer",
    }
    assert m["authorization"]["permissions"]["resourceSpecific"] == [
        {"name": "MailboxItem.Read.User", "type": "Delegated"}
    ]
    text = json.dumps({k: v for k, v in m.items() if k != "$schema"})
    assert "http://" not in text and f"{URL}/addin/pane.html" in text


def test_a_manifest_for_a_plain_http_address_is_refused_with_exit_code_2() -> None:
    done = _relsync("addin", "manifest", "--url", "http://relsync.example.com")
    assert done.returncode == 2
    assert "HTTPS" in done.stderr and "Traceback" not in done.stderr and not done.stdout


def test_the_builders_refuse_an_address_with_a_query() -> None:
    assert xml_manifest(URL).startswith(b"<?xml")
    assert json_manifest_text(URL).startswith("{")
    with pytest.raises(ManifestError, match="query"):
        xml_manifest(URL + "/?x=1")
