"""The pure parts of the fake Graph: ids, extended property ids, OData options, tokens, event shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from connector.fake.graph.context import parse_expand, parse_prefer, split_top_level
from connector.fake.graph.delta import DeltaState, DeltaTokenCodec
from connector.fake.graph.render import (
    EventIds,
    ews_id,
    ext_value,
    instance_uid,
    parse_prop_id,
    render_event,
    rest_id,
)
from connector.fake.graph.replies import GraphError
from connector.fake.mailbox import InvalidSyncState, MailboxStore
from connector.fake.model import ExtendedProp, Mailbox


def test_rest_ids_are_ews_ids_in_the_url_safe_alphabet() -> None:
    ews = "AAMk+a/b=="
    assert rest_id(ews) == "AAMk_a-b==" and ews_id(rest_id(ews)) == ews
    mb = MailboxStore(3, Mailbox("A", "a@x.test"), {})
    some = [mb.item_id("calendar", i, n) for i in range(200) for n in (0, 7)]
    assert all("/" not in rest_id(i) and ews_id(rest_id(i)) == i for i in some)


def test_extended_property_ids_parse_to_graphs_canonical_spelling() -> None:
    assert parse_prop_id("Integer 0x0036").text == "Integer 0x36"
    assert parse_prop_id("string 0x001A").text == "String 0x1a"
    named = parse_prop_id("String {00020329-0000-0000-C000-000000000046} Name Source")
    assert named.text == "String {00020329-0000-0000-c000-000000000046} Name Source"
    with pytest.raises(ValueError):
        parse_prop_id("Integer 36")


def test_extended_property_values_come_from_fields_and_named_properties() -> None:
    source = ExtendedProp("String", "Web", distinguished_set_id="PublicStrings", property_name="Source")
    tagged = ExtendedProp("Integer", "7", property_tag="0x8001")
    fields = {"Sensitivity": "Confidential", "ExtendedProperty": (source, tagged)}
    public = "String {00020329-0000-0000-c000-000000000046} Name"

    def value(pid: str) -> str | None:
        return ext_value("Contact", fields, parse_prop_id(pid))

    assert value("Integer 0x0036") == "3" and value("String 0x001A") == "IPM.Contact"
    assert value(f"{public} Source") == "Web" and value(f"{public} Other") is None
    assert value("Integer 0x8001") == "7"


def test_odata_options_parse() -> None:
    assert parse_prefer(['IdType="ImmutableId", odata.maxpagesize=50']) == {
        "idtype": "ImmutableId",
        "odata.maxpagesize": "50",
    }
    assert split_top_level("a($filter=x eq 'a' or y eq 'b'),linkedResources") == [
        "a($filter=x eq 'a' or y eq 'b')",
        "linkedResources",
    ]
    expand = parse_expand("singleValueExtendedProperties($filter=id eq 'Integer 0x0036' or id eq 'String 0x001A')")
    assert [p.text for p in expand.ext or ()] == ["Integer 0x36", "String 0x1a"]
    assert parse_expand("linkedResources").linked_resources is True
    with pytest.raises(GraphError):
        parse_expand("attachments")


def test_delta_tokens_round_trip_and_refuse_tampering() -> None:
    codec = DeltaTokenCodec(b"k")
    state = DeltaState(1, "calendar", 42, 3, "id,subject", None, (1, 2), 44, 5)
    token = codec.encode(state)
    assert codec.decode(token) == state
    assert "/" not in token and "+" not in token and "=" not in token
    with pytest.raises(InvalidSyncState):
        DeltaTokenCodec(b"other").decode(token)
    with pytest.raises(InvalidSyncState):
        codec.decode("garbage")


def test_an_all_day_occurrence_is_served_as_midnights_of_its_own_dates() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    values = {
        "Start": datetime(2026, 7, 1, tzinfo=berlin),
        "End": datetime(2026, 7, 2, tzinfo=berlin),
        "StartTimeZone": "W. Europe Standard Time",
        "IsAllDayEvent": True,
        "UID": "u1",
    }
    original = datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
    event = render_event(values, EventIds("i", "ck", "f", "m"), "occurrence", original)
    assert event["start"] == {"dateTime": "2026-07-01T00:00:00.0000000", "timeZone": "UTC"}
    assert event["end"]["dateTime"] == "2026-07-02T00:00:00.0000000"
    assert event["iCalUId"] == instance_uid("u1", original) == "u1-20260630T220000Z"
    assert event["originalStart"] == "2026-06-30T22:00:00Z" and event["seriesMasterId"] == "m"
    assert event["originalStartTimeZone"] == "W. Europe Standard Time"
