"""Running the console: the app for a loaded config, and a uvicorn server in a background thread for
``relsync daemon`` with ``[web] enabled = true`` (``relsync serve`` runs it in the foreground)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from mapping.store.store import Store
from scheduler.config import LoadedConfig
from scheduler.config_web import is_loopback, split_listen
from scheduler.report_settings import report_settings
from scheduler.web.app import WebConfigError, create_app


@dataclass(frozen=True)
class Listen:
    host: str
    port: int
    certificate: str | None
    key: str | None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.certificate else 'http'}://{host}:{self.port}/"


def listen_of(loaded: LoadedConfig, override: str | None = None) -> Listen:
    """Where the console listens (``override``: ``--listen``), with the TLS files resolved against the
    config's folder. A bad address is a ValueError; demo sign-in off loopback a :class:`WebConfigError`."""
    web = loaded.config.web
    host, port = split_listen(override or web.listen)
    if web.auth == "dev" and not is_loopback(host):
        raise WebConfigError(
            f'web.auth = "dev" signs people in without a password, so it only listens on '
            f'loopback, not {host}: listen on 127.0.0.1:{port}, or use auth = "oidc" or "header"'
        )
    base = loaded.path.parent
    cert = str(base / web.tls_certificate) if web.tls_certificate else None
    key = str(base / web.tls_key) if web.tls_key else None
    return Listen(host, port, cert, key)


def console_app(loaded: LoadedConfig, store: Store) -> Starlette:
    """The console for this configuration and store."""
    return create_app(
        loaded.config.web,
        store,
        loaded.config.mailboxes.addresses,
        report_settings(loaded),
        loaded.config.organisation.internal_domains,
    )


def uvicorn_config(app: Starlette, where: Listen) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=where.host,
        port=where.port,
        ssl_certfile=where.certificate,
        ssl_keyfile=where.key,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        access_log=False,
        lifespan="off",
    )


class ConsoleThread:
    """The console served from a daemon thread until :meth:`stop`."""

    def __init__(self, app: Starlette, where: Listen) -> None:
        self.where = where
        self._server = uvicorn.Server(uvicorn_config(app, where))
        self._thread = threading.Thread(target=self._server.run, name="web-console", daemon=True)

    def start(self, timeout: float = 30.0) -> ConsoleThread:
        """Start serving; returns once the socket listens (RuntimeError if it could not start)."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise WebConfigError(
                    f"the web console could not listen on {self.where.url} (web.listen): is "
                    "another program using that port?"
                )
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
