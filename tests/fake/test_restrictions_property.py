"""The fake's restriction, sort and AQS evaluators against plain Python on generated items (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from connector.fake.ews import restrictions
from connector.fake.model import ItemSpec, Mailbox

T = "http://schemas.microsoft.com/exchange/services/2006/types"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PEOPLE = [Mailbox("Dana Dunn", "dana@fabrikam.test"), Mailbox("Erin Estrada", "erin@northwind.test"), None]

items = st.lists(
    st.builds(
        lambda minutes, read, who, subject: ItemSpec(
            "Message",
            {
                "DateTimeReceived": T0 + timedelta(minutes=minutes),
                "IsRead": read,
                "Subject": subject,
                **({"From": who} if who is not None else {}),
            },
        ),
        st.integers(0, 10_000),
        st.booleans(),
        st.sampled_from(PEOPLE),
        st.text(alphabet="abcAB ", max_size=8),
    ),
    max_size=25,
)


def compare(op: str, uri: str, value: str) -> etree._Element:
    return etree.fromstring(
        f'<t:{op} xmlns:t="{T}"><t:FieldURI FieldURI="{uri}"/>'
        f'<t:FieldURIOrConstant><t:Constant Value="{value}"/></t:FieldURIOrConstant></t:{op}>'
    )


def values(spec: ItemSpec) -> dict[str, object]:
    return restrictions.item_values(spec, {"IsRead": False}, "alice@contoso.test")


@given(items, st.integers(0, 10_000))
def test_a_date_restriction_selects_exactly_the_later_items(specs: list[ItemSpec], minutes: int) -> None:
    since = T0 + timedelta(minutes=minutes)
    expr = compare("IsGreaterThanOrEqualTo", "item:DateTimeReceived", since.isoformat().replace("+00:00", "Z"))
    restrictions.validate(expr)
    got = [s for s in specs if restrictions.matches(expr, values(s))]
    assert got == [s for s in specs if s.fields["DateTimeReceived"] >= since]


@given(items, st.sampled_from(["dana@fabrikam.test", "ERIN@northwind.test"]), st.booleans())
def test_sender_and_read_state_combine_with_and_and_not(specs: list[ItemSpec], address: str, read: bool) -> None:
    expr = etree.fromstring(f'<t:And xmlns:t="{T}"/>')
    expr.append(compare("IsEqualTo", "message:From", address))
    negated = etree.SubElement(expr, f"{{{T}}}Not")
    negated.append(compare("IsEqualTo", "message:IsRead", "true" if read else "false"))
    restrictions.validate(expr)
    got = [s for s in specs if restrictions.matches(expr, values(s))]
    want = [
        s
        for s in specs
        if s.fields.get("From") is not None
        and s.fields["From"].email.lower() == address.lower()
        and s.fields["IsRead"] != read
    ]
    assert got == want


@given(items, st.booleans())
def test_sorting_orders_by_the_key_and_keeps_every_item(specs: list[ItemSpec], descending: bool) -> None:
    order = etree.fromstring(
        f'<t:SortOrder xmlns:t="{T}"><t:FieldOrder Order="{"Descending" if descending else "Ascending"}">'
        '<t:FieldURI FieldURI="item:DateTimeReceived"/></t:FieldOrder></t:SortOrder>'
    )
    got = restrictions.sort(specs, restrictions.sort_orders(order), values)
    assert sorted(map(id, got)) == sorted(map(id, specs))
    times = [s.fields["DateTimeReceived"] for s in got]
    assert times == sorted(times, reverse=descending)


@given(items, st.sampled_from(["a", "ab", "B"]))
def test_an_aqs_subject_term_matches_a_word_prefix_ignoring_case(specs: list[ItemSpec], word: str) -> None:
    terms = restrictions.parse_aqs(f"subject:{word}")
    got = [s for s in specs if restrictions.aqs_matches(terms, values(s))]
    want = [s for s in specs if any(w.startswith(word.lower()) for w in s.fields["Subject"].lower().split())]
    assert got == want
