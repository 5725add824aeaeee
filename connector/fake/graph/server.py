"""The fake Microsoft Graph v1.0 server: the mailboxes of a FakeExchange, served as relsync's Graph client
reads and writes them (docs: graph_api.md).

    with FakeExchange(company) as ex, FakeGraph(ex) as graph:
        session = requests.Session(); session.trust_env = False; session.verify = str(graph.ca_file)
        session.get(f"{graph.base_url}/users/alice@x/contacts/delta", headers={"Authorization": ...})

``FakeGraph(exchange, host="127.0.0.1", port=0, *, scope=None, max_page_size=1000, tokens=(), latency_ms=None,
translate_ids_app_only=False)``:

* serves the **same** MailboxStore objects, master category lists and seed as ``exchange``: a change
  made through EWS (or ``MailboxStore.create/update/delete``) shows in the next Graph delta and back;
* HTTPS on loopback with a self-signed certificate made at :meth:`start` (trust it through
  :attr:`ca_file`); :attr:`base_url` is ``https://127.0.0.1:PORT/v1.0``;
* accepts exactly the bearer tokens ``exchange.tokens`` accepts (filled, with expiry, by
  ``FakeTokenService``), plus the static ``tokens`` given here;
* ``scope``: the mailbox addresses the app may open (None: all); others get 403 ``ErrorAccessDenied``;
* ``max_page_size`` caps ``Prefer: odata.maxpagesize`` (default page 100); ``latency_ms`` is added to
  every request (None: the FakeExchange's ``latency_ms``, so both protocols answer alike in benchmarks);
* request bodies over 4 MB (Graph's limit) get 413;
* ``translate_ids_app_only`` (default False): ``translateExchangeIds`` answers 403 ``ErrorAccessDenied``
  (delegated permissions only, as Microsoft documents it) unless set.

Operations (the names faults and stats use): ``contacts.delta``, ``contacts.get``, ``contacts.patch``,
``messages.delta``, ``calendarView.delta``, ``events.get``, ``masterCategories`` (GET and POST),
``todo`` (lists, tasks, every method, and tasks ``delta``), ``users.get``, ``contacts.list``,
``messages.list``, ``mailFolder.messages.list``, ``mailFolders.get``, ``calendarView.list`` (the plain collections, with
``$select``/``$filter``/``$top``/``$skip``/``$count``: :mod:`connector.fake.graph.collections`),
``translateExchangeIds`` (EWS ids -> REST ids), ``batch`` (the
``$batch`` envelope; its inner requests count under their own names).

Every delta is served at ``.../delta``, ``.../delta()`` and ``.../microsoft.graph.delta()``; ``@odata.*``
annotations in request bodies are accepted (the SDKs add ``@odata.type`` to every object). A query
option the fake does not evaluate is refused with Graph's 400 error JSON, never ignored; a malformed
body or ``$filter`` gets Graph's error shape and the fake keeps serving.

Faults (``graph.faults``, or ``POST /_fake/graph/faults`` with the EWS fake's JSON keywords):
``server_busy`` -> 429 ``TooManyRequests`` + ``Retry-After: ceil(back_off_ms/1000)``; ``http_503`` -> 503
``ServiceNotAvailable`` + Retry-After; ``drop`` (connection closed unanswered; inside a $batch: that inner
response is a 503); ``slow`` / ``slow_reply`` (``delay_ms`` before / after the work); ``token_expired``
-> 401; ``invalid_sync_state`` -> the next delta request carrying a token gets 410 ``SyncStateNotFound``;
``conflict`` -> the next ``contacts.patch`` / To Do PATCH gets 412.

``GET /_fake/graph/stats`` (JSON; ``DELETE`` resets): requests per operation, per mailbox and per
"operation mailbox", requests missing ``Prefer: IdType="ImmutableId"`` (per operation; $batch inner
requests need their own header), max concurrent requests per mailbox, throttled answers (429/503)
per operation, writes, faults. ``GET /_fake/graph/overlaps``: two clients (User-Agent) reading one
mailbox's deltas at once.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any

from connector.fake.ews.server import FakeExchange
from connector.fake.faults import TRANSPORT_KINDS, FaultPlan
from connector.fake.graph.collections import mailbox_by_user_id
from connector.fake.graph.context import API_PREFIX, Ctx, Request, make_request
from connector.fake.graph.delta import DeltaTokenCodec
from connector.fake.graph.replies import (
    ACCESS_DENIED_MESSAGE,
    INVALID_TOKEN_MESSAGE,
    GraphError,
    Reply,
    error_body,
)
from connector.fake.graph.router import Handler, route
from connector.fake.httpserver import LoopbackHandler, LoopbackServer
from connector.fake.mailbox import MailboxStore
from connector.fake.overlaps import OverlapRecorder
from connector.fake.stats import GraphStats

log = logging.getLogger(__name__)

STATS_PATH = "/_fake/graph/stats"
FAULTS_PATH = "/_fake/graph/faults"
OVERLAPS_PATH = "/_fake/graph/overlaps"
#: The delta reads: "two clients syncing one mailbox at once" is recorded for these.
DELTA_OPERATIONS = frozenset({"contacts.delta", "messages.delta", "calendarView.delta"})
MAX_REQUEST_BYTES = 4 * 1024 * 1024
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024
JSON_TYPE = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"


class FakeGraph(LoopbackServer):
    """A fake Graph v1.0 endpoint over the mailboxes of ``exchange`` (see the module docstring)."""

    name = "fake Graph"

    def __init__(
        self,
        exchange: FakeExchange,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        scope: set[str] | None = None,
        max_page_size: int = 1000,
        tokens: Iterable[str] = (),
        latency_ms: float | None = None,
        translate_ids_app_only: bool = False,
    ) -> None:
        self.exchange = exchange
        #: Every token the fake accepts is an app's (client credentials); Microsoft documents
        #: translateExchangeIds as "Application: Not supported", so it is refused unless this says otherwise
        #: (a future Graph that allows it, or standing in for a delegated token).
        self.translate_ids_app_only = translate_ids_app_only
        #: Added to every Graph request's answer time (benchmarks); None: the same as the FakeExchange's.
        self.latency_ms = float(getattr(exchange, "latency_ms", 0.0)) if latency_ms is None else latency_ms
        super().__init__(host, port, tls_name="relsync fake Microsoft Graph")
        self.scope: set[str] | None = {a.lower() for a in scope} if scope is not None else None
        self.max_page_size = max_page_size
        self.tokens: set[str] = set(tokens)
        self.faults = FaultPlan()
        self.stats = GraphStats()
        self.overlaps = OverlapRecorder(DELTA_OPERATIONS)
        self.delta_codec = DeltaTokenCodec(f"relsync-fake-graph:{exchange.company.seed}".encode())

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"fake": self})

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:PORT/v1.0`` (Graph's ``https://graph.microsoft.com/v1.0``)."""
        return f"{self.root_url}{API_PREFIX}"

    @property
    def mailboxes(self) -> dict[str, MailboxStore]:
        return self.exchange.mailboxes

    # --- requests ------------------------------------------------------------------------------------

    def token_ok(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        token = authorization[7:].strip()
        return token in self.exchange.tokens or token in self.tokens

    def handle(self, req: Request) -> Reply:
        """Answer one Graph request (an HTTP one, or one inside a ``$batch``)."""
        try:
            op, address, handler = route(req)
        except GraphError as exc:
            return exc.reply()
        if not self.token_ok(req.headers.get("authorization")):
            return _invalid_token()
        key = address.lower() if address else None
        self.stats.begin(op, key)
        client = req.headers.get("user-agent")
        tracked = self.overlaps.begin(op, key, client)
        try:
            if req.prefer.get("idtype") != "ImmutableId":
                self.stats.missing_prefer(op)
            reply = self._serve(req, op, address, handler)
            if reply.status in (429, 503):
                self.stats.throttle(op)
            return reply
        finally:
            self.stats.end(key)
            if tracked:
                self.overlaps.end(key, client)

    def _serve(self, req: Request, op: str, address: str | None, handler: Handler) -> Reply:
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)
        fault = self.faults.take(TRANSPORT_KINDS, op, address)
        if fault is not None:
            self.stats.fault(fault.kind)
            retry = str(math.ceil(fault.back_off_ms / 1000))
            if fault.kind == "slow":
                time.sleep(fault.delay_ms / 1000)
            elif fault.kind == "server_busy":
                return Reply(429, error_body("TooManyRequests", "Too many requests."), {"Retry-After": retry})
            elif fault.kind == "http_503":
                return Reply(
                    503,
                    error_body("ServiceNotAvailable", "The service is temporarily unavailable."),
                    {"Retry-After": retry},
                )
            elif fault.kind == "token_expired":
                return _invalid_token()
            else:  # drop
                return Reply(0, drop=True)
        mailbox: MailboxStore | None = None
        if address is not None:
            mailbox = self.exchange.mailbox_for(address) or mailbox_by_user_id(self.mailboxes.values(), address)
            if mailbox is None:
                return GraphError(404, "ErrorInvalidUser", f"The requested user '{address}' is invalid.").reply()
            if self.scope is not None and mailbox.address not in self.scope:
                return GraphError(403, "ErrorAccessDenied", ACCESS_DENIED_MESSAGE).reply()
        try:
            reply = handler(Ctx(self, req, op, address, mailbox))
        except GraphError as exc:
            reply = exc.reply()
        except Exception:
            log.exception("fake Graph: %s failed", op)
            reply = Reply(500, error_body("InternalServerError", "An internal server error occurred."))
        late = self.faults.take({"slow_reply"}, op, address)
        if late is not None:  # done, but the client hears of it late (or, if it gave up meanwhile, never)
            self.stats.fault(late.kind)
            time.sleep(late.delay_ms / 1000)
        return reply


def _invalid_token() -> Reply:
    return Reply(
        401,
        error_body("InvalidAuthenticationToken", INVALID_TOKEN_MESSAGE),
        {
            "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/'
            'oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", '
            'error="invalid_token"'
        },
    )


class _Handler(LoopbackHandler):
    fake: FakeGraph
    disable_nagle_algorithm = True  # see the EWS fake: no 40 ms Nagle stall on keep-alive
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fake Graph: " + format, *args)

    def _send(self, reply: Reply) -> None:
        if reply.drop:
            self.close_connection = True
            return
        body = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        if reply.body is not None:
            self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(body)))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _body(self) -> bytes | None:
        """The request body; None (and the connection closes) when it is over Graph's 4 MB."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            # read (and drop) a moderately large body, so the client is still listening for the 413
            left = length if length <= DRAIN_LIMIT_BYTES else 0
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    break
                left -= len(chunk)
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        body = self._body()
        if body is None:
            self._send(Reply(413, error_body("RequestEntityTooLarge", "The request body is over 4 MB.")))
            return
        path = self.path.split("?")[0]
        if path.startswith("/_fake/graph/"):
            self._send(self._control(path, body))
            return
        if not path.startswith(API_PREFIX + "/"):
            self._send(Reply(404, error_body("NotFound", f"{path} is not a Graph v1.0 path.")))
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = make_request(self.command, self.path, headers, body, self.headers.get_all("Prefer") or [])
        try:
            reply = self.fake.handle(req)
        except Exception:  # the last line of defence: never a traceback page
            log.exception("fake Graph: request failed")
            reply = Reply(500, error_body("InternalServerError", "An internal server error occurred."))
        self._send(reply)

    def _control(self, path: str, body: bytes) -> Reply:
        fake, m = self.fake, self.command
        if path == STATS_PATH and m == "GET":
            return Reply(200, fake.stats.to_json())
        if path == STATS_PATH and m == "DELETE":
            fake.stats.reset()
            return Reply(200, {"cleared": True})
        if path == OVERLAPS_PATH and m == "GET":
            return Reply(200, fake.overlaps.to_json())
        if path == FAULTS_PATH and m == "GET":
            return Reply(200, [f.to_json() for f in fake.faults.pending()])
        if path == FAULTS_PATH and m == "DELETE":
            fake.faults.clear()
            return Reply(200, {"cleared": True})
        if path == FAULTS_PATH and m == "POST":
            try:
                data = json.loads(body or b"{}")
                added = [fake.faults.add_json(d).to_json() for d in (data if isinstance(data, list) else [data])]
            except (ValueError, TypeError) as exc:
                return Reply(400, {"error": str(exc)})
            return Reply(200, added)
        return Reply(404, {"error": "not found"})

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve
