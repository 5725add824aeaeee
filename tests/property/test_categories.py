"""Properties of the category merge and of override detection."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mapping.categories import all_managed_names, detect_overrides, merge_categories, parse_managed
from mapping.classify_config import ClassificationConfig

CONFIG = ClassificationConfig()
NAMES = CONFIG.categories
MANAGED = all_managed_names(CONFIG)
MANAGED_FOLDED = {m.casefold() for m in MANAGED}
SORTED_MANAGED = sorted(MANAGED)


def _case_variant(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, name.lower(), name.upper(), name.swapcase()])


managed_name = st.sampled_from(SORTED_MANAGED).flatmap(_case_variant)
user_name = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
).filter(lambda s: s.casefold() not in MANAGED_FOLDED)
category_list = st.lists(st.one_of(managed_name, user_name, st.sampled_from(["Golf", "VIP", "golf"])), max_size=10)
# one wanted category per dimension, as managed_categories produces them
wanted_lists = st.tuples(
    st.sampled_from(sorted(NAMES.type_names.values())),
    st.sampled_from([NAMES.value_template.format(tier=t) for t in CONFIG.tier_names]),
    st.sampled_from([NAMES.potential_template.format(potential=p) for p in CONFIG.potential_names]),
).map(list)


def _is_user(name: str) -> bool:
    return name.casefold() not in MANAGED_FOLDED


@settings(max_examples=300, deadline=None)
@given(current=category_list, wanted=wanted_lists)
def test_merge_is_idempotent(current: list[str], wanted: list[str]) -> None:
    once = merge_categories(current, wanted, MANAGED)
    assert merge_categories(once, wanted, MANAGED) == once


@settings(max_examples=300, deadline=None)
@given(current=category_list, wanted=wanted_lists)
def test_user_categories_are_never_lost_nor_reordered(current: list[str], wanted: list[str]) -> None:
    merged = merge_categories(current, wanted, MANAGED)
    assert [c for c in merged if _is_user(c)] == [c for c in current if _is_user(c)]


@settings(max_examples=300, deadline=None)
@given(current=category_list, wanted=wanted_lists)
def test_managed_categories_are_exactly_the_wanted_ones(current: list[str], wanted: list[str]) -> None:
    merged = merge_categories(current, wanted, MANAGED)
    managed = [c for c in merged if not _is_user(c)]
    assert sorted(managed) == sorted(wanted)  # the wanted spelling, once each


@settings(max_examples=300, deadline=None)
@given(current=category_list, wanted=wanted_lists)
def test_our_own_write_is_never_an_override(current: list[str], wanted: list[str]) -> None:
    written = merge_categories(current, wanted, MANAGED)
    assert detect_overrides(written, written, MANAGED, NAMES) == {}
    assert detect_overrides(written, list(reversed(written)), MANAGED, NAMES) == {}
    assert detect_overrides(written, [c.swapcase() for c in written], MANAGED, NAMES) == {}


@settings(max_examples=300, deadline=None)
@given(written=category_list, current=category_list)
def test_overrides_come_only_from_managed_changes(written: list[str], current: list[str]) -> None:
    result = detect_overrides(written, current, MANAGED, NAMES)
    added = {c.casefold() for c in current} - {c.casefold() for c in written}
    removed = {c.casefold() for c in written} - {c.casefold() for c in current}
    for dimension, value in result.items():
        if value is None:
            assert any((p := parse_managed(c, NAMES)) and p[0] == dimension for c in removed if c in MANAGED_FOLDED)
        else:
            assert any(
                (p := parse_managed(c, NAMES)) and p == (dimension, value) for c in current if c.casefold() in added
            )
    # changes to user categories alone are never overrides
    users_only = [c for c in written if not _is_user(c)] + [c for c in current if _is_user(c)]
    assert detect_overrides(written, users_only, MANAGED, NAMES) == {}
