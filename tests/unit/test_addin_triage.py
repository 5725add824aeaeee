"""Which of an item's addresses the add-in looks up: never an error, whatever Outlook hands over."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mapping.addin import MAX_ADDRESS_LENGTH, MAX_ITEM_ADDRESSES, MAX_LOOKUP, triage

OURS = ("contoso.example",)


def test_external_addresses_are_normalised_deduplicated_and_kept_in_order() -> None:
    t = triage(
        [
            "Jane <JANE@Fabrikam.example>",
            "jane@fabrikam.example",
            "bob@contoso.example",
            "ann@eu.contoso.example",
            "zed@tailspin.example",
        ],
        OURS,
    )
    assert t.external == ("jane@fabrikam.example", "zed@tailspin.example")
    assert (t.internal, t.invalid, t.more, t.cut) == (2, 0, 0, 0)
    assert t.empty_reason is None


def test_bad_values_are_counted_as_invalid_and_explained() -> None:
    t = triage(["", "   ", None, 42, "x" * 2048 + "@example.com", "not an address"], OURS)
    assert t.external == () and t.invalid == 6
    assert t.empty_reason is not None and "no usable e-mail address" in t.empty_reason


def test_only_colleagues_is_its_own_empty_state() -> None:
    t = triage(["a@contoso.example", "b@contoso.example"], OURS)
    assert t.empty_reason is not None and t.empty_reason.startswith("Only people of your own organisation")
    assert triage([], OURS).empty_reason == "This item has nobody on it yet: add recipients and the card follows."


def test_a_huge_item_is_cut_and_counted() -> None:
    many = [f"p{i}@c{i}.example" for i in range(MAX_ITEM_ADDRESSES + 50)]
    t = triage(many, OURS)
    assert len(t.external) == MAX_LOOKUP
    assert t.more == MAX_ITEM_ADDRESSES - MAX_LOOKUP and t.cut == 50


@given(st.lists(st.one_of(st.text(max_size=400), st.none(), st.integers(), st.emails()), max_size=60))
def test_triage_never_raises_and_accounts_for_every_distinct_address(raw: list[object]) -> None:
    t = triage(raw, OURS)
    assert len(t.external) == len(set(t.external)) <= MAX_LOOKUP
    assert all(len(a) <= MAX_ADDRESS_LENGTH and "@" in a for a in t.external)
    assert len(t.external) + t.internal + t.invalid + t.more <= len(raw)
