"""One Graph request as the fake's operations see it: parsed path, query, headers and body, plus helpers
for the OData options relsync uses ($select, $expand of extended properties, paging preferences)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from connector.fake.ews.context import ExchangeState
from connector.fake.faults import FaultPlan
from connector.fake.graph.delta import DeltaTokenCodec
from connector.fake.graph.render import PropId, parse_prop_id
from connector.fake.graph.replies import GraphError, Reply, bad_request
from connector.fake.mailbox import MailboxStore
from connector.fake.stats import GraphStats

API_PREFIX = "/v1.0"
DEFAULT_PAGE_SIZE = 100
_EXT_EXPAND = re.compile(r"^singleValueExtendedProperties\s*\(\s*\$filter\s*=\s*(.*)\)$", re.IGNORECASE | re.DOTALL)
_ID_EQ = re.compile(r"^\s*id\s+eq\s+'([^']*)'\s*$", re.IGNORECASE)


def parse_prefer(values: list[str]) -> dict[str, str]:
    """``Prefer`` preferences (several headers or comma-separated) -> {lower-case name: unquoted value}."""
    out: dict[str, str] = {}
    for value in values:
        for part in value.split(","):
            name, _, v = part.strip().partition("=")
            if name:
                out[name.strip().lower()] = v.strip().strip('"')
    return out


def split_top_level(text: str) -> list[str]:
    """Split an OData option on commas outside parentheses."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def parse_select(text: str | None, known: frozenset[str], type_name: str) -> frozenset[str] | None:
    """The $select names (None: everything); an unknown name is Graph's 400."""
    if text is None or not text.strip():
        return None
    names = frozenset(n.strip() for n in text.split(",") if n.strip())
    for n in sorted(names):
        if n not in known:
            raise bad_request(f"Could not find a property named '{n}' on type 'microsoft.graph.{type_name}'.")
    return names


@dataclass(frozen=True)
class Expand:
    """What $expand asked for: extended properties by id, and (To Do) linkedResources."""

    ext: tuple[PropId, ...] | None = None
    linked_resources: bool = False


def parse_expand(text: str | None) -> Expand:
    if text is None or not text.strip():
        return Expand()
    ext: list[PropId] | None = None
    linked = False
    for part in split_top_level(text):
        if part.lower() == "linkedresources":
            linked = True
            continue
        m = _EXT_EXPAND.match(part)
        if m is None:
            raise bad_request(f"Parsing OData Select and Expand failed: unsupported $expand '{part}'.")
        ext = ext or []
        for clause in re.split(r"\s+or\s+", m.group(1).strip(), flags=re.IGNORECASE):
            idm = _ID_EQ.match(clause)
            if idm is None:
                raise bad_request(f"Invalid filter clause '{clause.strip()}': the fake supports id eq '...' or ...")
            try:
                ext.append(parse_prop_id(idm.group(1)))
            except ValueError as exc:
                raise bad_request(str(exc)) from None
    return Expand(tuple(ext) if ext is not None else None, linked)


@dataclass
class Request:
    """A Graph request (the HTTP one, or one inside a ``$batch``)."""

    method: str
    path: str  # below /v1.0, as sent (percent-encoded), e.g. "/users/a%40x/contacts/delta"
    segments: list[str]  # decoded path segments
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    prefer_values: list[str] = field(default_factory=list)

    @property
    def prefer(self) -> dict[str, str]:
        return parse_prefer(self.prefer_values)

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise bad_request(
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of "
                "valid JSON format."
            ) from None


def make_request(
    method: str, target: str, headers: dict[str, str], body: bytes, prefer_values: list[str] | None = None
) -> Request:
    """A Request from a target below /v1.0 (``/users/a@x/contacts/delta?$select=id``)."""
    parts = urlsplit(target)
    path = parts.path if parts.path.startswith("/") else "/" + parts.path
    if path.lower().startswith(API_PREFIX + "/"):
        path = path[len(API_PREFIX) :]
    segments = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    prefer = prefer_values if prefer_values is not None else [headers["prefer"]] if "prefer" in headers else []
    return Request(method.upper(), path, segments, query, headers, body, prefer)


class GraphState(Protocol):
    """The parts of the fake Graph (``server.FakeGraph``) that operation handlers use."""

    faults: FaultPlan
    stats: GraphStats
    delta_codec: DeltaTokenCodec
    max_page_size: int
    translate_ids_app_only: bool

    @property
    def exchange(self) -> ExchangeState:
        """The fake Exchange whose mailboxes and user configurations Graph serves."""
        ...

    @property
    def base_url(self) -> str: ...

    def handle(self, req: Request) -> Reply:
        """Answer one Graph request (``$batch`` sends its inner requests through here)."""
        ...


@dataclass
class Ctx:
    """What an operation handler gets: the server, the request, and the (authorised) mailbox."""

    server: GraphState
    req: Request
    op: str
    address: str | None
    mailbox: MailboxStore | None

    @property
    def mb(self) -> MailboxStore:
        assert self.mailbox is not None
        return self.mailbox

    def page_size(self) -> int:
        raw = self.req.prefer.get("odata.maxpagesize")
        if raw is None:
            return min(DEFAULT_PAGE_SIZE, self.server.max_page_size)
        try:
            n = int(raw)
        except ValueError:
            raise bad_request(f"Invalid odata.maxpagesize '{raw}'.") from None
        return max(1, min(n, self.server.max_page_size))

    def link(self, param: str, token: str) -> str:
        """An absolute next/delta link for this request's resource."""
        return f"{self.server.base_url}{self.req.path}?{param}={token}"

    def json_object(self) -> dict[str, Any]:
        data = self.req.json()
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.")
        return data


def fault_error(status: int, code: str, message: str, retry_after: int | None = None) -> GraphError:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return GraphError(status, code, message, headers)
