"""OData query options of the fake Graph's plain collections: ``$filter`` for the simple forms, ``$top``,
``$skip``, and the refusal of every option the fake does not evaluate. Pure: no I/O.

``$filter`` as Microsoft documents it (https://learn.microsoft.com/en-us/graph/filter-query-parameter):
comparisons ``eq ne gt ge lt le`` of a property (a path like ``from/emailAddress/address``) with a
literal (``'text'`` with ``''`` for a quote, numbers, ``true``/``false``/``null``, an unquoted
``2026-11-23T09:00:00Z`` DateTimeOffset), combined with ``and``, ``or``, ``not`` and parentheses
(``not`` binds tightest, then ``and``, then ``or``, as OData's operator precedence says:
https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part2-url-conventions.html#sec_OperatorPrecedence).
String comparison is case-insensitive, as Exchange evaluates it for Outlook resources.

What the fake does not evaluate (functions such as ``startswith``/``contains``, lambdas ``any``/``all``,
arithmetic, ``in``, ``has``) is refused with Graph's ``ErrorInvalidUrlQueryFilter``; text it cannot
parse is ``BadRequest`` "Invalid filter clause"; a property the resource does not have is
``BadRequest`` "Could not find a property named ...". Each is a :class:`GraphError` (400).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connector.fake.graph.replies import GraphError, bad_request

#: Outlook's answer to a filter node it does not evaluate (Graph's Exchange workload).
UNSUPPORTED_FILTER_CODE = "ErrorInvalidUrlQueryFilter"
#: Outlook's answer to a query option it does not support on a resource.
UNSUPPORTED_QUERY_CODE = "ErrorInvalidUrlQuery"
MAX_TOP = 1000

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*')
      | (?P<dt>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<lp>\()
      | (?P<rp>\))
      | (?P<comma>,)
      | (?P<word>[A-Za-z_@$][\w./@$-]*)
      | (?P<other>\S)
    )""",
    re.VERBOSE,
)
_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}
_UNSUPPORTED_WORDS = {"in", "has", "add", "sub", "mul", "div", "divby", "mod"}


def unsupported_filter(what: str) -> GraphError:
    return GraphError(400, UNSUPPORTED_FILTER_CODE, f"The query filter contains one or more invalid nodes: {what}.")


def invalid_filter(text: str, why: str) -> GraphError:
    return bad_request(f"Invalid filter clause: {why} in '{text}'.")


@dataclass(frozen=True, slots=True)
class Compare:
    path: tuple[str, ...]
    op: str
    value: Any  # str | float | bool | None | datetime


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # and | or
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


Node = Compare | BoolOp | Not


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        kind = m.lastgroup
        if kind is None:
            continue
        out.append((kind, m.group(kind)))
    return out


class _Parser:
    def __init__(self, text: str, known: Callable[[str], bool]) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.known = known

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise invalid_filter(self.text, "unexpected end of the expression")
        self.i += 1
        return tok

    def word(self, w: str) -> bool:
        tok = self.peek()
        if tok is not None and tok[0] == "word" and tok[1].lower() == w:
            self.i += 1
            return True
        return False

    def parse(self) -> Node:
        node = self.or_expr()
        tok = self.peek()
        if tok is not None:
            if tok[0] == "word" and tok[1].lower() in _UNSUPPORTED_WORDS:
                raise unsupported_filter(f"the operator '{tok[1]}'")
            raise invalid_filter(self.text, f"unexpected '{tok[1]}'")
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.word("or"):
            node = BoolOp("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.unary()
        while self.word("and"):
            node = BoolOp("and", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.word("not"):
            return Not(self.unary())
        tok = self.peek()
        if tok is not None and tok[0] == "lp":
            self.i += 1
            node = self.or_expr()
            if self.take()[0] != "rp":
                raise invalid_filter(self.text, "')' expected")
            return node
        return self.comparison()

    def comparison(self) -> Node:
        kind, text = self.take()
        if kind != "word" or text.lower() in _COMPARE | {"and", "or"}:
            raise invalid_filter(self.text, f"a property expected at '{text}'")
        nxt = self.peek()
        if nxt is not None and nxt[0] == "lp":
            raise unsupported_filter(f"the function '{text}'")
        if "/" in text and text.split("/")[-1].lower() in ("any", "all"):
            raise unsupported_filter(f"the lambda '{text}'")
        path = tuple(text.split("/"))
        if not self.known(path[0]):
            raise bad_request(f"Could not find a property named '{path[0]}' on this resource.")
        op_tok = self.peek()
        if op_tok is None or op_tok[0] != "word":
            raise invalid_filter(self.text, f"a comparison expected after '{text}'")
        op = op_tok[1].lower()
        if op in _UNSUPPORTED_WORDS:
            raise unsupported_filter(f"the operator '{op_tok[1]}'")
        if op not in _COMPARE:
            raise invalid_filter(self.text, f"unknown operator '{op_tok[1]}'")
        self.i += 1
        return Compare(path, op, self.literal())

    def literal(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "dt":
            if "T" not in text:
                raise invalid_filter(self.text, f"a Date literal '{text}' (use a DateTimeOffset)")
            try:
                value = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise invalid_filter(self.text, f"the DateTimeOffset '{text}' is not valid") from None
            return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if kind == "num":
            return float(text)
        if kind == "word" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if kind == "word" and text.lower() == "null":
            return None
        nxt = self.peek()
        if kind == "word" and nxt is not None and nxt[0] == "lp":
            raise unsupported_filter(f"the function '{text}'")
        if kind == "word":
            raise unsupported_filter(f"a comparison with the property '{text}' (only literals are evaluated)")
        raise invalid_filter(self.text, f"a literal expected at '{text}'")


def parse_filter(text: str, known: Callable[[str], bool]) -> Node:
    """Parse a ``$filter``; ``known(name)`` says whether the resource has that top-level property."""
    if not text.strip():
        raise invalid_filter(text, "the expression is empty")
    return _Parser(text, known).parse()


def _lookup(entity: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = entity
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def _as_instant(value: Any) -> datetime | None:
    if isinstance(value, Mapping) and isinstance(value.get("dateTime"), str):  # dateTimeTimeZone in UTC
        value = value["dateTime"][:26] + ("Z" if value.get("timeZone", "UTC") == "UTC" else "")
    if not isinstance(value, str):
        return None
    try:
        out = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return out if out.tzinfo is not None else out.replace(tzinfo=UTC)


def _compare(actual: Any, op: str, wanted: Any) -> bool:
    if isinstance(actual, list):  # a collection property is not comparable without a lambda
        raise unsupported_filter("a comparison on a collection (use any(), which the fake does not evaluate)")
    left: Any = actual
    right: Any = wanted
    if isinstance(wanted, datetime):
        left = _as_instant(actual)
    elif isinstance(wanted, str) and isinstance(actual, str):
        left, right = actual.casefold(), wanted.casefold()
    elif isinstance(wanted, float) and isinstance(actual, int | float) and not isinstance(actual, bool):
        left = float(actual)
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None or type(left) is not type(right):
        return False  # null and mismatched types are never ordered (OData: the comparison is false)
    if op == "gt":
        return bool(left > right)
    if op == "ge":
        return bool(left >= right)
    if op == "lt":
        return bool(left < right)
    return bool(left <= right)


def matches(node: Node, entity: Mapping[str, Any]) -> bool:
    """Whether a rendered Graph entity satisfies the parsed filter."""
    if isinstance(node, Compare):
        return _compare(_lookup(entity, node.path), node.op, node.value)
    if isinstance(node, Not):
        return not matches(node.operand, entity)
    if node.op == "and":
        return matches(node.left, entity) and matches(node.right, entity)
    return matches(node.left, entity) or matches(node.right, entity)


def check_options(query: Mapping[str, str], allowed: frozenset[str], resource: str) -> None:
    """Refuse every ``$`` option (and unknown parameter) the fake does not evaluate for this resource,
    rather than answer as if it had honoured it."""
    for name in query:
        low = name.lower()
        if low.startswith("$") and low not in allowed:
            raise GraphError(
                400,
                UNSUPPORTED_QUERY_CODE,
                f"The query parameter '{name}' is not supported on '{resource}' by this server.",
            )


def non_negative(query: Mapping[str, str], name: str, default: int, cap: int | None = None) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        n = int(raw)
    except ValueError:
        raise bad_request(f"Invalid value '{raw}' for the query option '{name}': an integer is expected.") from None
    if n < 0:
        raise bad_request(f"Invalid value '{raw}' for the query option '{name}': it must not be negative.")
    return min(n, cap) if cap is not None else n
