"""HTTP to Microsoft Graph v1.0: tokens, mailbox concurrency, throttling, retries and Graph's errors.

One :class:`GraphClient` serves every mailbox of one app registration (thread-safe). Each request:

- carries ``Authorization: Bearer`` from a :class:`connector.auth.TokenSource` (msal's cache) and
  ``Prefer: IdType="ImmutableId"``, so item ids survive moves between folders;
- waits for a slot of its mailbox (at most ``max_concurrency_per_mailbox`` at once, Graph's
  MailboxConcurrency limit is 4 per app and mailbox);
- on 401 renews the token once and is sent again; refused again: :class:`AuthenticationFailed`;
- on 429/503 sleeps the ``Retry-After`` (capped; counted as throttled seconds) and is sent again;
- on a dropped connection, timeout or 5xx is sent again after a jittered exponential back-off;
- anything else Graph refuses becomes a :mod:`connector.errors` class with a sentence an admin can act
  on (404 ``ErrorInvalidUser`` / 403: :class:`MailboxUnavailable`; 410: :class:`SyncStateInvalid`;
  412: :class:`ChangeConflict`; 400 and the rest: :class:`ExchangeProtocolError`).

No message, log line or exception ever contains a token: only the request's method and path (never
its query string, which carries opaque skip/delta tokens too long to be useful in a log).
"""

from __future__ import annotations

import contextlib
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import requests
import structlog
from requests.adapters import HTTPAdapter

from connector.auth import PinnedCASession, TokenSource
from connector.base import CallStats, Counters
from connector.engine import SyncInterrupted
from connector.errors import (
    AuthenticationFailed,
    ChangeConflict,
    ExchangeError,
    ExchangeProtocolError,
    MailboxUnavailable,
    SyncStateInvalid,
    Throttled,
    TransientError,
)
from connector.graph.settings import GraphSettings, graph_oauth
from connector.problems import connection_problem

log = structlog.get_logger(__name__)

PREFER_IMMUTABLE_IDS = 'IdType="ImmutableId"'
_USER_PATH = re.compile(r"/users/([^/?#]+)", re.IGNORECASE)
_SYNC_STATE_CODES = frozenset({"SyncStateNotFound", "resyncRequired", "SyncStateInvalid"})
_THROTTLE_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class BatchRequest:
    """One request inside a ``$batch``: ``url`` is relative to the version root (``/users/...``)."""

    id: str
    url: str
    method: str = "GET"
    body: Mapping[str, Any] | None = None
    #: Extra headers of this inner request (``If-Match`` of a conditional PATCH).
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class BatchResponse:
    id: str
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def mailbox_of(url: str) -> str | None:
    """The mailbox a Graph URL addresses (``/users/{address}/...``), lower-case, or None."""
    match = _USER_PATH.search(urlsplit(url).path if "://" in url else url)
    return unquote(match.group(1)).lower() if match else None


def _where(method: str, url: str) -> str:
    """The request as a log or message may show it: method and path, no query string."""
    return f"{method} {urlsplit(url).path}"


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    with contextlib.suppress(TypeError, ValueError):  # an HTTP date
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    return None


#: The application permissions relsync needs (README, "Exchange Online through Microsoft Graph").
PERMISSIONS = (
    "Mail.Read, Calendars.Read, Contacts.ReadWrite (categories), MailboxSettings.ReadWrite "
    "(master categories) and Tasks.ReadWrite.All (follow-up tasks)"
)


def graph_error(status: int, body: Any, *, mailbox: str | None, where: str) -> ExchangeError:
    """A Graph error response as a :mod:`connector.errors` exception with an actionable sentence."""
    error = body.get("error") if isinstance(body, Mapping) else None
    code = str(error.get("code") or "") if isinstance(error, Mapping) else ""
    message = str(error.get("message") or "").strip() if isinstance(error, Mapping) else ""
    message = message.splitlines()[0][:300] if message else f"HTTP {status}"
    who = f" ({mailbox})" if mailbox else ""
    if (
        status == 404
        and code in ("ErrorInvalidUser", "MailboxNotEnabledForRESTAPI", "ResourceNotFound")
        and (code != "ResourceNotFound" or "user" in message.lower())
    ):
        return MailboxUnavailable(
            f"{code}: the mailbox does not exist{who} ({message.rstrip('.')}). "
            "Fix: check the address in mailboxes.addresses, or remove it",
            mailbox=mailbox,
            code=code or "ErrorInvalidUser",
        )
    if status == 403:
        return MailboxUnavailable(
            f"{code or 'ErrorAccessDenied'}: the mailbox is outside the app's scope (RBAC for Applications)"
            f"{who} ({message.rstrip('.')}). Fix: add the mailbox to the app's management scope or "
            f"application access policy, or grant the app {PERMISSIONS}",
            mailbox=mailbox,
            code=code or "ErrorAccessDenied",
        )
    if status == 410 or code in _SYNC_STATE_CODES:
        return SyncStateInvalid(f"{code or 'SyncStateNotFound'}: {message}", mailbox=mailbox, code=code or None)
    if status == 412:
        return ChangeConflict(f"{code or 'PreconditionFailed'}: {message}", mailbox=mailbox, code=code or None)
    if status == 401:
        return AuthenticationFailed(
            f"Graph refused a freshly issued access token at {where} ({code or 'InvalidAuthenticationToken'}: "
            f"{message}). Fix: grant the app the Graph application permissions {PERMISSIONS} with admin "
            "consent, and check that the token is for https://graph.microsoft.com",
            mailbox=mailbox,
            code=code or "InvalidAuthenticationToken",
        )
    if status in _THROTTLE_STATUSES:
        return Throttled(f"Graph throttled us{who}: {code}: {message}", back_off=0.0, mailbox=mailbox)
    if status >= 500:
        return TransientError(
            f"Graph failed at {where}: HTTP {status} {code}: {message}", mailbox=mailbox, code=code or str(status)
        )
    if status == 400:
        return ExchangeProtocolError(
            f"Graph refused the request {where} as malformed ({code or 'BadRequest'}: {message})",
            mailbox=mailbox,
            code=code or "BadRequest",
        )
    return ExchangeProtocolError(
        f"Graph answered {where} with HTTP {status} ({code}: {message})", mailbox=mailbox, code=code or str(status)
    )


class _Retry(Exception):
    """One attempt failed in a way worth another (internal to the retry loop)."""

    def __init__(self, error: ExchangeError, wait: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait  # the server's Retry-After; None: back off exponentially


class GraphClient:
    """Thread-safe Graph v1.0 client for one app registration (see the module docstring)."""

    def __init__(
        self,
        settings: GraphSettings,
        token_source: TokenSource | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if token_source is None:
            if settings.oauth is None:
                raise ValueError("GraphSettings.oauth or a token_source is required")
            token_source = TokenSource(graph_oauth(settings.oauth))
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self._tokens = token_source
        self._sleep = sleep
        session = PinnedCASession(settings.ca_bundle) if settings.ca_bundle is not None else requests.Session()
        # The environment's REQUESTS_CA_BUNDLE must not replace our CA file (PinnedCASession keeps its
        # own verify either way), and no proxy variable may see our bearer tokens by surprise.
        session.trust_env = False
        size = max(10, settings.max_concurrency_per_mailbox * max(1, settings.mailbox_workers))
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=size)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        self._session = session
        self._lock = threading.Lock()
        self._token: dict[str, Any] | None = None
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    def __repr__(self) -> str:
        return f"GraphClient({self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    # ------------------------------------------------------------------------------------ public
    def url(self, path: str) -> str:
        """The absolute URL of ``path`` (``/users/...``) under the configured version root."""
        return path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"

    @staticmethod
    def user_path(address: str) -> str:
        """``/users/{address}`` with the address escaped for a URL path."""
        return f"/users/{quote(address, safe='@')}"

    def get(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        counters: Counters | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET ``path`` (relative to the version root) and return its JSON."""
        return self.request("GET", self.url(path), params=params, counters=counters, headers=headers)

    def get_url(
        self,
        url: str,
        *,
        counters: Counters | None = None,
        headers: Mapping[str, str] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Any:
        """GET an absolute URL Graph gave us (``@odata.nextLink`` / ``@odata.deltaLink``), verbatim."""
        return self.request("GET", url, counters=counters, headers=headers, should_stop=should_stop)

    def post(
        self, path: str, body: Any, *, counters: Counters | None = None, headers: Mapping[str, str] | None = None
    ) -> Any:
        return self.request("POST", self.url(path), json=body, counters=counters, headers=headers)

    def patch(
        self, path: str, body: Any, *, counters: Counters | None = None, headers: Mapping[str, str] | None = None
    ) -> Any:
        return self.request("PATCH", self.url(path), json=body, counters=counters, headers=headers)

    def delete(self, path: str, *, counters: Counters | None = None, headers: Mapping[str, str] | None = None) -> Any:
        return self.request("DELETE", self.url(path), counters=counters, headers=headers)

    def batch(
        self,
        requests_: Sequence[BatchRequest],
        *,
        counters: Counters | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> dict[str, BatchResponse]:
        """Send ``requests_`` through ``$batch`` (``batch_size`` per call, at most 20), by id.

        Inner requests Graph throttled (429/503) are sent again, in a later batch, after the longest
        of their Retry-After waits; every other inner answer (errors included) is returned as is, for
        the caller to judge (see :func:`graph_error`).
        """
        counters = counters if counters is not None else CallStats()
        results: dict[str, BatchResponse] = {}
        pending = list(requests_)
        size = self.settings.batch_size
        attempt = 0
        while pending:
            attempt += 1
            throttled: list[BatchRequest] = []
            waits: list[float] = []
            for start in range(0, len(pending), size):
                chunk = pending[start : start + size]
                by_id = {r.id: r for r in chunk}
                body = {"requests": [self._inner(r) for r in chunk]}
                answer = self.request(
                    "POST",
                    self.url("/$batch"),
                    json=body,
                    counters=counters,
                    mailbox=next((m for r in chunk if (m := mailbox_of(r.url))), None),
                    should_stop=should_stop,
                )
                for response in (answer or {}).get("responses") or ():
                    rid = str(response.get("id"))
                    if rid not in by_id:
                        continue
                    status = int(response.get("status") or 0)
                    if status in _THROTTLE_STATUSES and attempt < self.settings.max_attempts:
                        throttled.append(by_id[rid])
                        headers = {str(k).title(): str(v) for k, v in (response.get("headers") or {}).items()}
                        waits.append(_retry_after(headers) or self.settings.retry_base_seconds)
                        continue
                    results[rid] = BatchResponse(rid, status, response.get("body"))
                for rid in by_id.keys() - results.keys() - {r.id for r in throttled}:
                    results[rid] = BatchResponse(rid, 0, None)  # no answer for it: the caller retries later
            if throttled:
                wait = min(max(waits), self.settings.max_retry_after_seconds)
                if should_stop is not None and should_stop():
                    raise SyncInterrupted("stop requested while throttled")
                counters.throttled_seconds += wait
                counters.retries += 1
                log.info("batch requests throttled, waiting", count=len(throttled), wait_seconds=round(wait, 2))
                self._sleep(wait)
            pending = throttled
        return results

    def error_for(self, response: BatchResponse, where: str) -> ExchangeError:
        """An inner ``$batch`` error answer as a :mod:`connector.errors` exception."""
        return graph_error(response.status, response.body, mailbox=mailbox_of(where), where=where)

    # --------------------------------------------------------------------------------- requests
    def _inner(self, request: BatchRequest) -> dict[str, Any]:
        inner: dict[str, Any] = {
            "id": request.id,
            "method": request.method,
            "url": request.url,
            "headers": {**(request.headers or {}), "Prefer": PREFER_IMMUTABLE_IDS},
        }
        if request.body is not None:
            inner["body"] = dict(request.body)
            inner["headers"]["Content-Type"] = "application/json"
        return inner

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        counters: Counters | None = None,
        mailbox: str | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Any:
        """Send one request with the retries of the module docstring; its JSON (None for 204).

        ``should_stop`` (the daemon's shutdown or lost-lease signal) is asked before every wait; when it
        says stop, :class:`connector.engine.SyncInterrupted` is raised instead of waiting."""
        s = self.settings
        counters = counters if counters is not None else CallStats()
        mailbox = mailbox or mailbox_of(url)
        where = _where(method, url)
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                with self._slot(mailbox):
                    response, token = self._send(method, url, params=params, json=json, headers=headers, where=where)
                if response.status_code == 401:
                    if renewed or not self._renew(token):
                        raise graph_error(401, _json(response), mailbox=mailbox, where=where)
                    renewed = True
                    attempt -= 1  # the token's fault, not the request's: it does not count as an attempt
                    log.info("Graph refused the access token; using a fresh one", request=where)
                    continue
                self._tokens.accepted(token)
                return self._answer(response, mailbox, where)
            except _Retry as retry:
                if attempt >= s.max_attempts:
                    raise retry.error from None
                if retry.wait is not None:
                    wait = min(retry.wait, s.max_retry_after_seconds)
                    counters.throttled_seconds += wait
                else:
                    cap = min(s.retry_max_seconds, s.retry_base_seconds * 2 ** (attempt - 1))
                    wait = random.uniform(cap / 2, cap)  # jitter: many workers must not retry in step
                if should_stop is not None and should_stop():
                    raise SyncInterrupted("stop requested while retrying") from None
                counters.retries += 1
                log.info(
                    "retrying", request=where, error=str(retry.error), attempt=attempt, wait_seconds=round(wait, 2)
                )
                self._sleep(wait)

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        where: str,
    ) -> tuple[requests.Response, str]:
        """Send once; the response and the token it carried."""
        token = self._current_token()
        all_headers = {
            "Prefer": PREFER_IMMUTABLE_IDS,
            "Accept": "application/json",
            **(headers or {}),
            "Authorization": f"Bearer {token}",
        }
        if "Prefer" in (headers or {}) and PREFER_IMMUTABLE_IDS not in all_headers["Prefer"]:
            # A caller's Prefer (odata.maxpagesize) goes with ours: both preferences in one header.
            all_headers["Prefer"] = f"{PREFER_IMMUTABLE_IDS}, {all_headers['Prefer']}"
        try:
            response = self._session.request(
                method, url, params=params, json=json, headers=all_headers, timeout=self.settings.timeout_seconds
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            text = f"{type(exc).__name__}: {exc}"
            sentence = connection_problem(text)
            message = (sentence or f"cannot reach Graph: {type(exc).__name__}").replace("Exchange", "Graph")
            raise _Retry(TransientError(f"{message} ({where})", code=type(exc).__name__), None) from None
        except requests.RequestException as exc:
            raise ExchangeProtocolError(
                f"request {where} failed: {type(exc).__name__}", code=type(exc).__name__
            ) from None
        return response, token

    def _answer(self, response: requests.Response, mailbox: str | None, where: str) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            if status == 204 or not response.content:
                return None
            return _json(response)
        body = _json(response)
        error = graph_error(status, body, mailbox=mailbox, where=where)
        if status in _THROTTLE_STATUSES:
            wait = _retry_after(response.headers)
            back_off = wait if wait is not None else self.settings.retry_base_seconds
            raise _Retry(Throttled(str(error), back_off=back_off, mailbox=mailbox), back_off)
        if status >= 500 or status == 408:
            raise _Retry(error, None)
        raise error

    # ----------------------------------------------------------------------------- concurrency
    @contextlib.contextmanager
    def _slot(self, mailbox: str | None) -> Iterator[None]:
        if mailbox is None:
            yield
            return
        with self._lock:
            slot = self._slots.get(mailbox)
            if slot is None:
                slot = self._slots[mailbox] = threading.BoundedSemaphore(self.settings.max_concurrency_per_mailbox)
        with slot:
            yield

    # ---------------------------------------------------------------------------------- tokens
    @property
    def _bearer(self) -> str | None:
        token = self._token
        return str(token["access_token"]) if token else None

    def _current_token(self) -> str:
        with self._lock:
            token = self._token
            if token is None or float(token.get("expires_at") or 0) <= time.time():
                token = self._token = self._tokens.acquire()
            return str(token["access_token"])

    def _renew(self, refused: str) -> bool:
        """Graph answered 401 to ``refused``: True once a fresh token is held (or another thread got one)."""
        with self._lock:
            if self._bearer != refused:
                return True
            fresh = self._tokens.renew_refused(refused)
            if fresh is None:
                return False
            self._token = fresh
            return True


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
