"""The fake Exchange: a real HTTP server on loopback speaking the EWS SOAP that exchangelib 5.6 sends.

    with FakeExchange(company, validate=schema) as ex:
        cfg = Configuration(service_endpoint=ex.url, credentials=Credentials(ex.username, ex.password), ...)
        ...
        ex.mailboxes["alice@example.com"].update(item_id, Subject="edited in Outlook")
        ex.faults.add("server_busy", back_off_ms=1500, operation="SyncFolderItems")

HTTP endpoints: ``POST /EWS/Exchange.asmx`` (EWS), ``GET /_fake/stats``, ``POST|DELETE /_fake/faults``.

What it models, as Exchange 2016 does it:

* Dispatch on the first child of the SOAP Body (exchangelib sends no SOAPAction); the mailbox comes from
  ``ExchangeImpersonation/ConnectingSID`` (``PrimarySmtpAddress``, ``SmtpAddress``, ``PrincipalName`` or
  ``SID``), else ``X-AnchorMailbox``, else the authenticated user; an unknown one gets
  ``ErrorNonExistentMailbox`` response messages. An EWS operation the fake does not serve gets
  ``ErrorInvalidOperation``, a Body child that is none ``ErrorSchemaValidation`` (``unsupported.py``).
* Basic auth (401 + ``WWW-Authenticate: Basic``, also for a plain GET of the EWS URL, as IIS does) or
  ``Bearer`` tokens from ``tokens``.
* With ``validate=schema``: every request is checked against the schema first (a failure is the
  ``ErrorSchemaValidation`` fault Exchange sends, recorded in ``request_violations``), and every
  response header element and Body child is validated (failures recorded in ``violations``).
* Limits: 64 MB per request (EWS web.config), ``MaxChangesReturned`` 1..512, CalendarView over at
  most two years, cut at ``MaxEntriesReturned``.
* User configurations (Get/Create/Update/DeleteUserConfiguration), stored per mailbox and folder; every
  mailbox starts with Outlook's default master category list ("CategoryList" on the Calendar folder).
* Every write gives the item a new ChangeKey and a new change number, so it comes back in the next
  SyncFolderItems of every client (our own writes included, unless listed in ``Ignore``).

* FindItem ``Restriction``, ``SortOrder`` and ``QueryString`` as ``restrictions.py`` documents; ConvertId
  (``convertid.py``); CreateItem stamps items as ``stamping.py`` documents.

Not modelled (refused, not ignored): sending mail (a created Message is only saved; without
``SavedItemFolderId`` it lands in Drafts, as with ``SaveOnly``), attachments, folders other than the
distinguished ones, FindItem grouping, meeting requests and responses.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any

from lxml import etree

from connector.fake.ews import soap, unsupported
from connector.fake.ews.context import Ctx, SoapFault
from connector.fake.ews.identity import METADATA_PATH, ExchangeIdentityIssuer
from connector.fake.ews.router import HANDLERS, MAILBOX_OPERATIONS, unknown_mailbox_response
from connector.fake.ews.xmlout import NS_S, NS_T
from connector.fake.faults import TRANSPORT_KINDS, FaultPlan
from connector.fake.httpserver import LoopbackHandler, LoopbackServer
from connector.fake.mailbox import MailboxStore, SyncStateCodec
from connector.fake.model import FOLDER_KINDS, CompanySource
from connector.fake.overlaps import OverlapRecorder
from connector.fake.stats import Stats
from connector.fake.userconfig import UserConfigStore

log = logging.getLogger(__name__)
#: Faults applied after the operation was carried out.
_AFTER_KINDS = frozenset({"slow_reply"})

EWS_PATH = "/EWS/Exchange.asmx"
#: Exchange 2016's EWS web.config caps a request at 64 MB (maxReceivedMessageSize / maxAllowedContentLength).
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
BEARER_CHALLENGE = (
    'Bearer client_id="00000002-0000-0ff1-ce00-000000000000", '
    'authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"'
)
_S = f"{{{NS_S}}}"
_T = f"{{{NS_T}}}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False)


class Violation(AssertionError):
    """A response the fake sent that does not validate against the EWS schema."""


class FakeExchange(LoopbackServer):
    """A fake Exchange 2016 EWS endpoint backed by in-memory mailboxes built from a CompanySource."""

    name = "fake Exchange"

    def __init__(
        self,
        company: CompanySource,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "svc-relsync",
        password: str = "fake-password",
        *,
        tokens: Iterable[str] = (),
        validate: etree.XMLSchema | None = None,
        raise_on_violation: bool = False,
        validate_requests: bool = True,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        build: soap.ServerBuild | None = None,
        render_cache_items: int = 20_000,
        state_secret: bytes | None = None,
        latency_ms: float = 0.0,
    ) -> None:
        self.company = company
        #: Added to every EWS request's answer time, as a real server's tens of milliseconds (benchmarks).
        self.latency_ms = latency_ms
        super().__init__(host, port)
        self.username = username
        self.password = password
        self.tokens: set[str] = set(tokens)
        self.schema = validate
        self.raise_on_violation = raise_on_violation
        self.violations: list[str] = []
        self.validate_requests = validate_requests
        self.request_violations: list[str] = []
        self.max_request_bytes = max_request_bytes
        self.build = build or soap.ServerBuild()
        self.faults = FaultPlan()
        self.stats = Stats()
        #: Two clients (workers) syncing one mailbox at once: ``GET /_fake/overlaps``.
        self.overlaps = OverlapRecorder()
        # States are signed with a key derived from the company seed (unless given), so a restarted fake
        # for the same company honours the states it issued before, as a restarted Exchange would.
        secret = state_secret if state_secret is not None else f"relsync-fake:{company.seed}".encode()
        self.sync_codec = SyncStateCodec(secret)
        #: User configurations (Outlook's master category list "CategoryList" on each Calendar folder).
        self.user_configs = UserConfigStore()
        self.mailboxes: dict[str, MailboxStore] = {}
        self._by_number: list[MailboxStore] = []
        for n, owner in enumerate(company.mailboxes()):
            folders = {key: company.folder(owner.email, key) for key in FOLDER_KINDS}
            store = MailboxStore(n, owner, folders, render_cache_items)
            self.mailboxes[store.address] = store
            self._by_number.append(store)
            self.user_configs.seed_category_list(store.number, store.address)
        self._validate_lock = threading.Lock()
        self._identity: ExchangeIdentityIssuer | None = None

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"fake": self})

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT``, where ``/_fake/stats`` and friends live."""
        return self.root_url

    @property
    def url(self) -> str:
        return f"{self.base_url}{EWS_PATH}"

    @property
    def identity(self) -> ExchangeIdentityIssuer:
        """Exchange identity tokens for Outlook add-ins and their signing certificate (made on first use:
        RSA keys take a moment, and most tests never ask)."""
        with self._validate_lock:
            if self._identity is None:
                self._identity = ExchangeIdentityIssuer()
            return self._identity

    @property
    def metadata_url(self) -> str:
        """The auth metadata document (``amurl`` of the identity tokens), served without sign-in."""
        return f"{self.base_url}{METADATA_PATH}"

    def identity_token(self, address: str, audience: str, **kwargs: Any) -> str:
        """An Exchange identity token for ``address``'s add-in at ``audience`` (see :mod:`.identity`)."""
        if self.mailbox_for(address) is None:
            raise KeyError(f"no mailbox {address} in the fake Exchange")
        return self.identity.identity_token(address.strip().lower(), audience, self.metadata_url, **kwargs)

    # --- lookups ---------------------------------------------------------------------------------

    def mailbox_for(self, address: str | None) -> MailboxStore | None:
        if not address:
            return None
        return self.mailboxes.get(address.strip().lower())

    def mailbox_by_number(self, number: int) -> MailboxStore | None:
        return self._by_number[number] if 0 <= number < len(self._by_number) else None

    # --- validation ------------------------------------------------------------------------------

    def check(self, op: str, payload: bytes) -> None:
        """Validate a response (header elements and the first child of the Body) if a schema is set."""
        if self.schema is None:
            return
        root = etree.fromstring(payload, _PARSER)
        body = root.find(f"{_S}Body")
        targets = [el for el in root.iterfind(f"{_S}Header/*")]
        if body is not None and len(body) and body[0].tag != f"{_S}Fault":
            targets.append(body[0])
        with self._validate_lock:
            for el in targets:
                if not self.schema.validate(el):
                    problem = f"{op}: {self.schema.error_log.filter_from_errors()}"
                    self.violations.append(problem)
                    log.error("fake Exchange sent an invalid response: %s", problem)
                    if self.raise_on_violation:
                        raise Violation(problem)

    def _check_request(self, op: str, root: etree._Element, op_el: etree._Element) -> bytes | None:
        """Exchange validates every request against its schema first; do the same when we have it."""
        if self.schema is None or not self.validate_requests:
            return None
        targets = [el for el in root.iterfind(f"{_S}Header/*") if isinstance(el.tag, str)]
        targets.append(op_el)
        with self._validate_lock:
            for el in targets:
                if not self.schema.validate(el):
                    err = self.schema.error_log.last_error
                    problem = f"{op} request: {err.message if err else 'invalid'}"
                    self.request_violations.append(problem)
                    log.warning("fake Exchange refused a request that fails the EWS schema: %s", problem)
                    line = err.line if err else 0
                    return soap.schema_validation_fault(err.message if err else "invalid request", line, 0)
        return None

    # --- the EWS request -------------------------------------------------------------------------

    def sid_of(self, mailbox: MailboxStore) -> str:
        """The (made-up, stable) Windows security identifier of a mailbox's user, for ``ConnectingSID/SID``."""
        return f"S-1-5-21-3623811015-3361044348-30300820-{1100 + mailbox.number}"

    def _addressed(self, root: etree._Element, headers: dict[str, str]) -> str | None:
        """The mailbox a request addresses, in every form clients send.

        ``ExchangeImpersonation/ConnectingSID`` holds one of ``PrincipalName`` (the UPN, which is the
        address here), ``SID``, ``PrimarySmtpAddress`` or ``SmtpAddress``
        (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/connectingsid);
        without impersonation, ``X-AnchorMailbox`` (plain, or ``SMTP:``/``UPN:`` prefixed) names it, else the
        authenticated user.
        """
        sid = root.find(f"{_S}Header/{_T}ExchangeImpersonation/{_T}ConnectingSID")
        if sid is not None and len(sid):
            child = sid[0]
            value = (child.text or "").strip()
            if etree.QName(child).localname == "SID":
                for mb in self._by_number:
                    if self.sid_of(mb).lower() == value.lower():
                        return mb.address
            return value
        anchor = headers.get("x-anchormailbox", "").strip()
        kind, sep, rest = anchor.partition(":")
        if sep and kind.upper() in ("SMTP", "UPN"):
            anchor = rest.strip()
        return anchor or headers.get("_user")

    def handle_ews(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        try:
            root = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError as exc:
            line, col = exc.position if exc.position else (0, 0)
            return 500, soap.schema_validation_fault(str(exc.msg), line, col), {}
        body_el = root.find(f"{_S}Body")
        if root.tag != f"{_S}Envelope" or body_el is None or not len(body_el):
            return 500, soap.schema_validation_fault("The request is not a SOAP 1.1 envelope with a Body.", 1, 1), {}
        op_el = body_el[0]
        op = etree.QName(op_el).localname
        address = self._addressed(root, headers)
        mailbox = self.mailbox_for(address)
        if op in HANDLERS:
            refused = self._check_request(op, root, op_el)
            if refused is not None:
                return 500, refused, {}
        else:
            with self._validate_lock:
                known = unsupported.is_ews_operation(op_el, self.schema)
            refuse = unsupported.unsupported_operation if known else unsupported.not_an_operation
            return 500, refuse(op, self.build), {}
        self.stats.begin(op, address.lower() if address else None)
        client = headers.get("user-agent")
        tracked = self.overlaps.begin(op, address, client)
        try:
            if self.latency_ms > 0:
                time.sleep(self.latency_ms / 1000)
            fault = self.faults.take(TRANSPORT_KINDS, op, address)
            if fault is not None:
                self.stats.fault(fault.kind)
                if fault.kind == "slow":
                    time.sleep(fault.delay_ms / 1000)
                else:
                    return 0, b"", {"_fault": fault.kind, "_back_off": str(fault.back_off_ms)}
            handler = HANDLERS[op]
            if op in MAILBOX_OPERATIONS and mailbox is None:
                content = unknown_mailbox_response(op, op_el)
            else:
                ctx = Ctx(op, op_el, self, mailbox, address)
                try:
                    content = handler(ctx)
                except SoapFault as sf:
                    return 500, sf.body, {}
                except Exception:
                    log.exception("fake Exchange: %s failed", op)
                    return 500, soap.fault("ErrorInternalServerError", "An internal server error occurred."), {}
            payload = soap.envelope(content, self.build)
            self.check(op, payload)
            late = self.faults.take(_AFTER_KINDS, op, address)
            if late is not None:  # done, but the client hears of it late (or, if killed meanwhile, never)
                self.stats.fault(late.kind)
                time.sleep(late.delay_ms / 1000)
            return 200, payload, {}
        finally:
            self.stats.end(address.lower() if address else None)
            if tracked:
                self.overlaps.end(address, client)


class _Handler(LoopbackHandler):
    fake: FakeExchange
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle + delayed ACK stall every
    # keep-alive response by ~40 ms (IIS sets no such delay).
    disable_nagle_algorithm = True
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fake Exchange: " + format, *args)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/xml; charset=utf-8",
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.fake.max_request_bytes:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _authorized(self) -> str | None:
        """The authenticated user name, or None (a 401 has been sent)."""
        auth = self.headers.get("Authorization", "")
        fake = self.fake
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, pw = "", ""
            if user == fake.username and pw == fake.password:
                return user
        elif auth.startswith("Bearer "):
            if auth[7:].strip() in fake.tokens:
                return "bearer"
            # what Exchange answers for an unknown, revoked or expired access token
            self._unauthorized(BEARER_CHALLENGE + ', error="invalid_token"')
            return None
        self._unauthorized('Basic realm="127.0.0.1"')
        return None

    def _unauthorized(self, challenge: str) -> None:
        self._send(401, b"", "text/html", {"WWW-Authenticate": challenge})

    def do_GET(self) -> None:
        if self.path.split("?")[0].lower() == EWS_PATH.lower():
            # IIS challenges an unauthenticated GET of the EWS URL (clients probe it this way) with 401;
            # an authenticated one gets the service page, which the fake does not serve.
            if self._authorized() is not None:
                self._send(405, b"Method Not Allowed", "text/plain", {"Allow": "POST"})
        elif self.path.split("?")[0].lower() == METADATA_PATH:
            # Anonymous, as on Exchange: add-in back ends fetch it to check identity token signatures.
            self._json(200, self.fake.identity.metadata_document(self.fake.metadata_url))
        elif self.path.startswith("/_fake/stats"):
            self._json(200, self.fake.stats.to_json())
        elif self.path.startswith("/_fake/overlaps"):
            self._json(200, self.fake.overlaps.to_json())
        elif self.path.startswith("/_fake/faults"):
            self._json(200, [f.to_json() for f in self.fake.faults.pending()])
        else:
            self._send(404, b"Not Found", "text/plain")

    def do_DELETE(self) -> None:
        if self.path.startswith("/_fake/faults"):
            self.fake.faults.clear()
            self._json(200, {"cleared": True})
        elif self.path.startswith("/_fake/stats"):
            self.fake.stats.reset()
            self._json(200, {"cleared": True})
        else:
            self._send(404, b"Not Found", "text/plain")

    def do_POST(self) -> None:
        if self.path.startswith("/_fake/faults"):
            raw = self._read_body() or b"{}"
            try:
                data = json.loads(raw)
                items = data if isinstance(data, list) else [data]
                added = [self.fake.faults.add_json(d).to_json() for d in items]
            except (ValueError, TypeError) as exc:
                self._json(400, {"error": str(exc)})
                return
            self._json(200, added)
            return
        if self.path.split("?")[0].lower() != EWS_PATH.lower():
            self._send(404, b"Not Found", "text/plain")
            return
        body = self._read_body()
        if body is None:
            self._send(
                500, soap.fault("ErrorInvalidRequest", "The request is too large."), extra={"Connection": "close"}
            )
            return
        user = self._authorized()
        if user is None:
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        headers["_user"] = user
        try:
            status, payload, extra = self.fake.handle_ews(body, headers)
        except Exception:  # the last line of defence: never a traceback page
            log.exception("fake Exchange: request failed")
            status, payload, extra = (
                500,
                soap.fault("ErrorInternalServerError", "An internal server error occurred."),
                {},
            )
        kind = extra.pop("_fault", None)
        if kind == "drop":
            self.close_connection = True
            return
        if kind == "http_503":
            self._send(503, b"<html><body>Service Unavailable</body></html>", "text/html")
            return
        if kind == "token_expired":
            self._unauthorized(
                BEARER_CHALLENGE + ', error="invalid_token", error_description="The access token has expired"'
            )
            return
        if kind == "server_busy":
            self._send(500, soap.server_busy_fault(int(extra.pop("_back_off", "1000"))))
            return
        self._send(status, payload, extra=extra)
