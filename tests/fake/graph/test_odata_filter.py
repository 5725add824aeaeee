"""The fake Graph's ``$filter`` evaluator (pure): the simple forms agree with the OData semantics they
stand for (https://learn.microsoft.com/en-us/graph/filter-query-parameter; operator precedence
``not`` > ``and`` > ``or``, https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part2-url-conventions.html#sec_OperatorPrecedence)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.fake.graph.odata import matches, parse_filter
from connector.fake.graph.replies import GraphError

KNOWN = {"n", "flag", "name", "when", "from"}.__contains__
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}

comparisons = st.one_of(
    st.tuples(st.just("n"), st.sampled_from(sorted(OPS)), st.integers(-3, 3)),
    st.tuples(st.just("when"), st.sampled_from(sorted(OPS)), st.integers(-3, 3)),
    st.tuples(st.just("flag"), st.sampled_from(["eq", "ne"]), st.booleans()),
)


def _text(c: tuple[str, str, Any]) -> str:
    prop, op, v = c
    if prop == "when":
        return f"when {op} {(T0 + timedelta(hours=v)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
    if prop == "flag":
        return f"flag {op} {'true' if v else 'false'}"
    return f"n {op} {v}"


def _truth(c: tuple[str, str, Any], entity: dict[str, Any]) -> bool:
    prop, op, v = c
    if prop == "when":
        return bool(OPS[op](datetime.fromisoformat(entity["when"].replace("Z", "+00:00")), T0 + timedelta(hours=v)))
    return bool(OPS[op](entity[prop], v))


expressions = st.recursive(
    comparisons.map(lambda c: (_text(c), lambda e, c=c: _truth(c, e))),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
            lambda t: (
                f"({t[0][0]}) {t[1]} ({t[2][0]})",
                (lambda e, t=t: t[0][1](e) and t[2][1](e))
                if t[1] == "and"
                else (lambda e, t=t: t[0][1](e) or t[2][1](e)),
            )
        ),
        inner.map(lambda x: (f"not ({x[0]})", lambda e, x=x: not x[1](e))),
    ),
    max_leaves=6,
)
entities = st.builds(
    lambda n, h, flag: {"n": n, "flag": flag, "when": (T0 + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ")},
    st.integers(-3, 3),
    st.integers(-3, 3),
    st.booleans(),
)


@given(expressions, entities)
def test_filter_evaluates_like_the_expression_it_parses(expr: tuple[str, Any], entity: dict[str, Any]) -> None:
    text, truth = expr
    assert matches(parse_filter(text, KNOWN), entity) == truth(entity)


def test_and_binds_tighter_than_or_and_strings_compare_case_insensitively() -> None:
    node = parse_filter("n eq 1 or n eq 2 and flag eq true", KNOWN)
    assert matches(node, {"n": 1, "flag": False})  # n eq 1 or (n eq 2 and flag eq true)
    assert not matches(node, {"n": 2, "flag": False})
    node = parse_filter("from/emailAddress/address eq 'Dana@Fabrikam.test'", KNOWN)
    assert matches(node, {"from": {"emailAddress": {"address": "dana@fabrikam.test"}}})
    assert matches(parse_filter("name eq 'O''Neil'", KNOWN), {"name": "o'neil"})


def test_null_is_equal_only_to_null_and_never_ordered() -> None:
    assert matches(parse_filter("name eq null", KNOWN), {"name": None})
    assert not matches(parse_filter("name ne null", KNOWN), {"name": None})
    assert not matches(parse_filter("n gt 1", KNOWN), {"n": None})


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("startswith(name,'a')", "ErrorInvalidUrlQueryFilter"),
        ("n add 1 eq 2", "ErrorInvalidUrlQueryFilter"),
        ("n eq", "BadRequest"),
        ("(n eq 1", "BadRequest"),
        ("", "BadRequest"),
        ("colour eq 'red'", "BadRequest"),
        ("when ge 2026-03-02", "BadRequest"),
    ],
)
def test_what_it_does_not_evaluate_or_cannot_parse_is_refused(text: str, code: str) -> None:
    with pytest.raises(GraphError) as refused:
        parse_filter(text, KNOWN)
    assert refused.value.status == 400 and refused.value.code == code
