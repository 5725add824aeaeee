"""Comparing a store filled over EWS with one filled over Graph, for the parity tests.

Graph's contact has only ``businessPhones``, ``homePhones`` and ``mobilePhone``
(https://learn.microsoft.com/graph/api/resources/contact); EWS also serves ``CompanyMainPhone``,
``BusinessFax``, ``AssistantPhone``, ``OtherTelephone`` and the rest of ``PhoneNumberKeyType``
(https://learn.microsoft.com/exchange/client-developer/web-service-reference/entry-phonenumber),
which the generated address books use. So over Graph a person has a subset of the EWS phones; every
other exported value must be equal.
"""

from __future__ import annotations

import json
from typing import Any


def assert_same_store(what: str, ews_rows: list[dict[str, Any]], graph_rows: list[dict[str, Any]]) -> None:
    """The exported ``what`` rows agree, people's phones up to the kinds only EWS has."""
    if what == "people":
        ews_phones, graph_phones = _phones(ews_rows), _phones(graph_rows)
        assert graph_phones.keys() == ews_phones.keys(), what
        assert all(graph_phones[k] <= ews_phones[k] for k in ews_phones), what
        # Most people have only phone kinds both APIs carry.
        assert sum(graph_phones[k] == ews_phones[k] for k in ews_phones) > len(ews_phones) * 3 // 4, what
        ews_rows, graph_rows = _without_phones(ews_rows), _without_phones(graph_rows)
    assert _canonical(graph_rows) == _canonical(ews_rows), what


def _canonical(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)


def _without_phones(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "phones"} for r in rows]


def _phones(rows: list[dict[str, Any]]) -> dict[str, set[str]]:
    return {
        json.dumps(r, sort_keys=True, default=str): set(p)
        for r, p in zip(_without_phones(rows), (r["phones"] for r in rows), strict=True)
    }
