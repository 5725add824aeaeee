"""Data quality: the lists a data steward works through, each with its total and its first rows.

The store finds the rows (counting all, returning the first ``limit`` of each); :func:`data_quality`
puts them in the fixed order and titles every page and file shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: (key, title) of each list, in the order they are shown. The keys are the JSON field names.
QUALITY_LISTS: tuple[tuple[str, str], ...] = (
    ("people_without_valid_address", "People without a valid e-mail address"),
    ("contacts_without_organisation", "Contacts without an organisation"),
    ("organisations_without_domain", "Organisations without a domain"),
    ("pending_duplicates", "Duplicate pairs waiting for review"),
    ("unmatched_sales_rows", "Sales rows matched to no customer"),
)


@dataclass(frozen=True, slots=True)
class QualityItem:
    """One row of a list: the id of what it is about (person, organisation, pair, transaction), a label
    (its name) and a detail (why it is listed, or what to look at)."""

    id: int
    label: str
    detail: str


@dataclass(frozen=True, slots=True)
class QualityList:
    """One list: ``total`` rows in the store, ``items`` the first of them."""

    key: str
    title: str
    total: int
    items: tuple[QualityItem, ...]


@dataclass(frozen=True, slots=True)
class DataQuality:
    lists: tuple[QualityList, ...]

    def get(self, key: str) -> QualityList:
        """The list named ``key`` (one of :data:`QUALITY_LISTS`)."""
        for found in self.lists:
            if found.key == key:
                return found
        raise KeyError(key)


def data_quality(found: Mapping[str, tuple[int, Sequence[QualityItem]]]) -> DataQuality:
    """Every list of :data:`QUALITY_LISTS` (an absent one is empty), items by label then id."""
    unknown = set(found) - {key for key, _ in QUALITY_LISTS}
    if unknown:
        raise ValueError(f"unknown data quality lists: {', '.join(sorted(unknown))}")
    lists = []
    for key, title in QUALITY_LISTS:
        total, items = found.get(key, (0, ()))
        ordered = tuple(sorted(items, key=lambda item: (item.label.casefold(), item.id)))
        lists.append(QualityList(key, title, max(total, len(ordered)), ordered))
    return DataQuality(tuple(lists))


__all__ = ["QUALITY_LISTS", "DataQuality", "QualityItem", "QualityList", "data_quality"]
