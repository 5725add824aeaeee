"""`relsync addin manifest` writes manifests that follow Microsoft's documented rules.

The XML: OfficeApp's children in the schema's order, a MailApp for the Mailbox host, ItemRead and ItemEdit
forms, ReadItem (the pane only reads the item), activation on messages and appointments in read and
compose mode, VersionOverrides 1.0 wrapping 1.1 with a pinnable task pane on every surface, HTTPS only.
The unified JSON manifest: its required members, the mail scope, a pinnable action, HTTPS only.

Both are also validated against Microsoft's published schemas, vendored in tests/addin/schemas/ (see its
README: sources, commits, licences; no network at test time): the XML with lxml against
OfficeAppManifestV1_1.xsd (which imports the basic types and the mail VersionOverrides 1.0 and 1.1
schemas), the JSON with ``jsonschema`` against MicrosoftTeams.schema.json v1.17, the version it names.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree

from scheduler.web.addin.manifest import (
    NS,
    VO,
    VO11,
    XML_ORDER,
    ManifestError,
    add_in_id,
    json_manifest_text,
    xml_manifest,
)

URL = "https://relsync.example.com"
SCHEMAS = Path(__file__).resolve().parent.parent / "addin" / "schemas"
API_CLIENT_ID = "6f1a2b3c-0000-4000-8000-000000000001"
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


@pytest.fixture(scope="module")
def unified(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The unified JSON manifest as the command writes it."""
    out = tmp_path_factory.mktemp("manifest") / "manifest.json"
    done = _relsync(
        "addin", "manifest", "--url", URL + "/", "--format", "json", "--api-client-id", API_CLIENT_ID, "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return found


def test_the_json_manifest_has_the_unified_manifest_members_and_https_only(unified: dict[str, Any]) -> None:
    m = unified
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


@pytest.fixture(scope="module")
def office_schema() -> etree.XMLSchema:
    """Microsoft's add-in manifest schema (its imports resolve beside it, from the vendored files)."""
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "OfficeAppManifestV1_1.xsd")))


def _schema_errors(schema: etree.XMLSchema, doc: etree._Element) -> list[str]:
    schema.validate(doc)
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def test_the_xml_manifest_is_valid_against_microsofts_manifest_schemas(
    root: etree._Element, office_schema: etree.XMLSchema
) -> None:
    assert _schema_errors(office_schema, root) == []


def test_the_manifest_schemas_reject_what_outlook_would_refuse(
    root: etree._Element, office_schema: etree.XMLSchema
) -> None:
    """The schema check bites: children out of order, and the VersionOverrides type named in the wrong
    namespace (what the generator once wrote: a prefixed element with an unprefixed ``xsi:type``)."""
    swapped = etree.fromstring(etree.tostring(root))
    permissions = next(c for c in swapped if isinstance(c.tag, str) and _local(c) == "Permissions")
    swapped.remove(permissions)
    swapped.insert(3, permissions)
    assert any("Permissions" in e for e in _schema_errors(office_schema, swapped))
    text = etree.tostring(root).decode()
    outer = f'<VersionOverrides xmlns="{VO}" xsi:type="VersionOverridesV1_0">'
    assert outer in text
    wrong = text.replace(outer, '<mailappor:VersionOverrides xsi:type="VersionOverridesV1_0">').replace(
        "</VersionOverrides>\n</OfficeApp>", "</mailappor:VersionOverrides>\n</OfficeApp>"
    )
    assert 'xmlns:mailappor="' + VO + '"' in text  # the root declares the prefix, as Microsoft's samples do
    errors = _schema_errors(office_schema, etree.fromstring(wrong))
    assert any("VersionOverridesV1_0" in e for e in errors), errors
    # The nested VersionOverrides 1.1 (the pinnable pane) is checked too, by Microsoft's 1.1 schema.
    pinned = text.replace("<SupportsPinning>true</SupportsPinning>", "<SupportsPinning>always</SupportsPinning>", 1)
    assert any("SupportsPinning" in e for e in _schema_errors(office_schema, etree.fromstring(pinned)))


@pytest.fixture(scope="module")
def teams_schema() -> Any:
    schema = json.loads((SCHEMAS / "MicrosoftTeams.v1.17.schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_the_json_manifest_is_valid_against_the_published_unified_manifest_schema(
    unified: dict[str, Any], teams_schema: Any
) -> None:
    assert unified["$schema"].endswith("/teams/v1.17/MicrosoftTeams.schema.json")
    assert unified["manifestVersion"] == "1.17"
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in teams_schema.iter_errors(unified)]
    assert errors == []
    # Without the API's app registration (Exchange-only deployments) it is still a valid manifest.
    assert list(teams_schema.iter_errors(json.loads(json_manifest_text(URL)))) == []


def test_the_unified_manifest_schema_rejects_a_broken_manifest(unified: dict[str, Any], teams_schema: Any) -> None:
    broken = {k: v for k, v in unified.items() if k != "id"}
    broken["extensions"] = [{**unified["extensions"][0], "requirements": {"scopes": ["fax"]}}]
    messages = [e.message for e in teams_schema.iter_errors(broken)]
    assert any("'id' is a required property" in m for m in messages), messages
    assert any("'fax'" in m for m in messages), messages
