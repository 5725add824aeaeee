"""One small threaded HTTP(S) server on loopback: the base of the fake EWS, Graph and token service.

    class FakeThing(LoopbackServer):
        name = "fake thing"

        def handler_class(self) -> type[BaseHTTPRequestHandler]:
            return type("Handler", (_Handler,), {"fake": self})

    with FakeThing(tls_name="relsync fake thing") as thing:
        requests.get(f"{thing.root_url}/x", verify=str(thing.ca_file))

A :class:`LoopbackServer` starts a ``ThreadingHTTPServer`` (one daemon thread per connection) in a
background thread, stops it (and its certificate directory) again, and is a context manager. With
``tls_name`` it serves HTTPS with a fresh self-signed certificate for ``localhost`` and ``127.0.0.1``
(trust it through :attr:`LoopbackServer.ca_file`); each connection's TLS handshake runs in the
connection's own thread (:class:`LoopbackHandler`), so a client that stalls its handshake holds up no
other client. A client that hangs up mid-request is logged at debug level, not as a traceback.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import shutil
import ssl
import sys
import tempfile
import threading
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socket import socket
from types import TracebackType
from typing import Any, Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

log = logging.getLogger(__name__)


def self_signed_certificate(directory: Path, common_name: str) -> tuple[Path, Path]:
    """A fresh key and self-signed certificate for ``localhost`` / ``127.0.0.1``: (cert file, key file).

    Servers trusted through one CA file need different ``common_name``s: OpenSSL looks an issuer up by
    name, and two self-signed certificates of one name make it check against the wrong key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "server.pem", directory / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    return cert_file, key_file


class _ThreadingServer(ThreadingHTTPServer):
    """Daemon threads per connection; TLS (when given) wrapped per connection, handshake deferred."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], name: str, tls: ssl.SSLContext | None
    ) -> None:
        self.name = name
        self.tls = tls
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket, Any]:
        sock, addr = self.socket.accept()
        if self.tls is None:
            return sock, addr
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-request (killed, timed out) is normal: log it, no traceback spam."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError | ssl.SSLError):
            log.debug("%s: client %s went away: %r", self.name, client_address, exc)
            return
        log.exception("%s: error while serving %s", self.name, client_address)


class LoopbackHandler(BaseHTTPRequestHandler):
    """The request handler base: HTTP/1.1 keep-alive, and the TLS handshake in the connection's thread."""

    protocol_version = "HTTP/1.1"

    def handle(self) -> None:
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError) as exc:
                log.debug("%s: TLS handshake failed: %r", getattr(self.server, "name", "fake server"), exc)
                return
        super().handle()


class LoopbackServer(ABC):
    """A threaded HTTP (or, with ``tls_name``, HTTPS) server on loopback: start, stop, ``with``, URLs.

    ``port=0`` picks a free port at :meth:`start` (read it from :attr:`port` or :attr:`root_url`).
    ``tls_name`` is the certificate's common name: servers whose certificates one client trusts
    together need different names (see :func:`self_signed_certificate`).
    """

    #: The thread name and log prefix ("fake Exchange", "fake Graph", ...).
    name = "fake server"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, tls_name: str | None = None) -> None:
        self.host = host
        self.port = port
        self.tls_name = tls_name
        #: The certificate clients trust (made at start; None for plain HTTP).
        self.ca_file: Path | None = None
        self._cert_dir: Path | None = None
        self._httpd: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None

    @abstractmethod
    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class, bound to this server (``type("Handler", (H,), {"fake": self})``)."""

    def start(self) -> Self:
        """Listen and serve in a background thread (again a no-op while it runs)."""
        if self._httpd is not None:
            return self
        context: ssl.SSLContext | None = None
        if self.tls_name is not None:
            self._cert_dir = Path(tempfile.mkdtemp(prefix="relsync-fake-tls-"))
            cert_file, key_file = self_signed_certificate(self._cert_dir, self.tls_name)
            self.ca_file = cert_file
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_file, key_file)
        httpd = _ThreadingServer((self.host, self.port), self.handler_class(), self.name, context)
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name.replace(" ", "-"), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and remove the certificate (safe to call twice)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._cert_dir is not None:
            shutil.rmtree(self._cert_dir, ignore_errors=True)
            self._cert_dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """``http://HOST:PORT`` (``https://`` with TLS), no trailing slash."""
        scheme = "http" if self.tls_name is None else "https"
        return f"{scheme}://{self.host}:{self.port}"
