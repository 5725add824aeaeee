"""The Graph translation's fast readers (plain UTC instants read directly, participants cached by what
Graph sent) give exactly what the general readers give: instants rendered by the fake Graph and any
other text; recipients with valid, invalid, blank and overlong addresses and names, read cold and again
from the cache."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.fake.graph.render import iso_z
from connector.graph import translate
from connector.translate_rules import BadItem, participant_of
from mapping.records import Participant, Response, Role

instants = st.datetimes(datetime(1800, 1, 1), datetime(2300, 1, 1), timezones=st.just(UTC))
digits = st.text("0123456789", min_size=1, max_size=4)
shaped = st.builds(  # right shape, any numbers: impossible dates and times, years out of range
    lambda y, mo, d, h, mi, s, z: f"{y.zfill(4)}-{mo.zfill(2)}-{d.zfill(2)}T{h.zfill(2)}:{mi.zfill(2)}:{s.zfill(2)}{z}",
    digits,
    digits,
    digits,
    digits,
    digits,
    digits,
    st.sampled_from(["Z", "z", "", "+00:00", ".5Z", " "]),
)


def outcome(read: Any, value: Any) -> datetime | str | None:
    try:
        result: datetime | None = read("I1", "sent time", value)
    except BadItem as exc:
        return f"BadItem: {exc.reason}"
    return result


@given(value=instants.map(iso_z) | shaped | st.text(max_size=30) | st.none() | st.integers())
def test_an_instant_is_read_alike_by_the_fast_and_the_general_reader(value: Any) -> None:
    fast = outcome(translate.parse_instant, value)
    assert fast == outcome(translate.read_instant, value)
    if isinstance(fast, datetime):
        assert fast.tzinfo is UTC


@given(instant=st.datetimes(datetime(1900, 1, 1), datetime(2199, 12, 31), timezones=st.just(UTC)))
def test_an_instant_the_fake_renders_comes_back_to_the_second(instant: datetime) -> None:
    assert translate.parse_instant("I1", "sent time", iso_z(instant)) == instant.replace(microsecond=0)


addresses = st.sampled_from(["jane@contoso.example", "JANE@Contoso.Example", "bob@fabrikam.example", "", "  "]) | (
    st.text(max_size=12).map(lambda t: f"{t}@contoso.example")
)
names = st.none() | st.text(max_size=8) | st.text(min_size=300, max_size=400)
roles: st.SearchStrategy[Role] = st.sampled_from(["from", "to", "cc", "bcc", "organizer", "required", "optional"])
responses: st.SearchStrategy[Response | None] = st.sampled_from([None, "accepted", "declined", "unknown"])


def general(value: Any, role: Role, response: Response | None) -> Participant | None:
    """What the translation read before the cache: participant_of over the emailAddress object."""
    if not isinstance(value, dict) or not isinstance(value.get("emailAddress"), dict):
        return None
    data = value["emailAddress"]
    address, name = data.get("address"), data.get("name")
    mailbox = translate._Mailbox(address if isinstance(address, str) else None, name if isinstance(name, str) else None)
    return participant_of(mailbox, role, response)


@given(
    address=st.none() | addresses | st.integers(),
    name=names | st.integers(),
    role=roles,
    response=responses,
    long_address=st.booleans(),
)
def test_a_recipient_is_read_alike_from_the_cache_and_without_it(
    address: Any, name: Any, role: Role, response: Response | None, long_address: bool
) -> None:
    if long_address and isinstance(address, str):
        address = "x" * 400 + address
    value = {"emailAddress": {"address": address, "name": name}}
    expected = general(value, role, response)
    translate.clear_caches()
    assert translate._recipient(value, role, response) == expected  # cold
    assert translate._recipient(value, role, response) == expected  # from the cache


@pytest.mark.parametrize("value", [None, "jane@contoso.example", {"emailAddress": None}, {"emailAddress": "x"}])
def test_a_recipient_that_is_not_an_email_address_object_is_no_participant(value: Any) -> None:
    assert translate._recipient(value, "to") is None
