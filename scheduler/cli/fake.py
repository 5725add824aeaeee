"""``relsync fake-exchange``: the generated company on a fake Exchange (and Graph), and the config for it."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from mapping.files import describe_os_error, write_text_atomically
from scheduler.cli.group import cli
from scheduler.fake_files import CATALOGUE_FILE, write_catalogue, write_sales_history


@cli.command("fake-exchange")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option("--port", default=0, show_default=True, help="0 picks a free port.")
@click.option("--seed", default=7, show_default=True, help="Seed of the generated company.")
@click.option("--mailboxes", default=5, show_default=True, help="Number of staff mailboxes.")
@click.option("--scale", default="small", show_default=True, help="tiny, small, medium or large.")
@click.option(
    "--backend",
    type=click.Choice(["ews", "graph"]),
    default="ews",
    show_default=True,
    help="How the written config reaches the mailboxes: EWS, or Microsoft Graph (with a fake token service).",
)
@click.option(
    "--write-config",
    "write_config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a relsync config pointing at this server (SQLite store and sales.csv beside it).",
)
def fake_exchange(
    host: str, port: int, seed: int, mailboxes: int, scale: str, backend: str, write_config_path: Path | None
) -> None:
    """Serve a generated company over EWS (and, with --backend graph, over Microsoft Graph too, with
    a token service msal accepts) on loopback until interrupted.

    Prints one JSON line: {"endpoint", "username", "password", "mailboxes"}; with --backend graph also
    "graph_url", "authority_host", "tenant_id", "client_id" and "ca_file" (the client secret is only
    written to the 0600 file beside the config); with --write-config also "sales_history", the
    company's sales export written beside the config (for `relsync import transactions`).
    """
    from connector.fake.company.generator import SCALES, build_company
    from connector.fake.ews.server import FakeExchange

    if scale not in SCALES:
        raise click.BadParameter(f"choose one of {', '.join(SCALES)}", param_hint="--scale")
    if mailboxes < 1:
        raise click.BadParameter("at least 1", param_hint="--mailboxes")
    company = build_company(seed=seed, mailboxes=mailboxes, scale=scale)
    server = FakeExchange(company, host=host, port=port)
    server.start()
    stoppers: list[Callable[[], None]] = [server.stop]
    addresses = [m.email for m in company.mailboxes()]
    line: dict[str, Any] = {
        "endpoint": server.url,
        "username": server.username,
        "password": server.password,
        "mailboxes": addresses,
    }
    try:
        graph: FakeGraphEndpoint | None = None
        if backend == "graph":
            graph = start_fake_graph(server, host)
            stoppers[:0] = graph.stoppers
            line.update(graph.public())
        if write_config_path is not None:
            write_fake_config(
                write_config_path, server.url, server.username, server.password, addresses, company.domain, graph=graph
            )
            line["sales_history"] = str(write_sales_history(write_config_path, company))
        # Handlers first: whoever reads the line may signal us the moment it arrives.
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        click.echo(json.dumps(line), nl=True)
        sys.stdout.flush()
        stop.wait()
    finally:
        for stopper in stoppers:
            stopper()


@dataclass
class FakeGraphEndpoint:
    """A running fake Graph and its token service, as a written config needs them."""

    graph_url: str
    authority_host: str
    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    ca_file: str
    stoppers: list[Callable[[], None]]

    def public(self) -> dict[str, str]:
        return {
            "graph_url": self.graph_url,
            "authority_host": self.authority_host,
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "ca_file": self.ca_file,
        }


def start_fake_graph(exchange: Any, host: str = "127.0.0.1", scope: set[str] | None = None) -> FakeGraphEndpoint:
    """Start a fake Graph serving ``exchange``'s mailboxes and a fake token service for it (``scope``:
    the only mailboxes the app may read, as RBAC for Applications would limit it)."""
    import secrets as random_secrets

    from connector.fake.graph.server import FakeGraph
    from connector.fake.tokens import FakeTokenService

    client_id = "relsync-fake-app"
    client_secret = random_secrets.token_urlsafe(24)
    idp = FakeTokenService(exchange=exchange, clients={client_id: client_secret}).start()
    try:
        graph = FakeGraph(exchange, host=host, scope=scope).start()
    except BaseException:
        idp.stop()
        raise
    # Both certificates go into one CA file: the config trusts it for the token service and for Graph.
    ca_file = Path(str(graph.ca_file)).with_name("relsync-fake-ca.pem")
    write_text_atomically(ca_file, Path(str(idp.ca_file)).read_text() + Path(str(graph.ca_file)).read_text())
    return FakeGraphEndpoint(
        graph.base_url, idp.authority_host, idp.tenant, client_id, client_secret, str(ca_file), [graph.stop, idp.stop]
    )


def write_fake_config(
    path: Path,
    endpoint: str,
    username: str,
    password: str,
    mailboxes: list[str],
    domain: str,
    graph: FakeGraphEndpoint | None = None,
    label: str = "--write-config",
) -> None:
    """Write a complete config for the fake server; the password (or the app's client secret, with
    ``graph``) goes to a 0600 file beside it. ``label``: the argument that named ``path``, for errors."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise describe_os_error(path, exc, label) from None
    secret = path.with_name(path.stem + (".client-secret" if graph else ".password"))
    # Created 0600 from the first byte (never a moment readable by others), and renamed into place.
    write_text_atomically(secret, (graph.client_secret if graph else password) + "\n", label=label)
    store = path.with_name(path.stem + ".db")
    if graph is None:
        connection = f"""[exchange]
backend = "ews"
endpoint = "{endpoint}"
server_version = "Exchange2016"
auth = "basic"
access_type = "impersonation"
username = "{username}"
password_file = "{secret.name}"
timeout_seconds = 30
max_connections = 4
verify_tls = true
"""
        backend = "ews"
    else:
        connection = f"""[graph]
base_url = "{graph.graph_url}"
tenant_id = "{graph.tenant_id}"
client_id = "{graph.client_id}"
client_secret_file = "{secret.name}"
authority_host = "{graph.authority_host}"
ca_bundle = "{graph.ca_file}"
timeout_seconds = 30
"""
        backend = "graph"
    text = f"""# Written by `relsync fake-exchange --write-config`: a relsync config for the fake Exchange.
[store]
url = "sqlite:///{store.name}"

{connection}
[mailboxes]
addresses = {json.dumps(mailboxes)}
backend = "{backend}"

[organisation]
internal_domains = ["{domain}"]
default_region = "US"

[logging]
level = "INFO"
format = "console"

# The product catalogue: the sales history's spellings mapped to products (README, "Business case").
[next_offer]
catalogue = "{CATALOGUE_FILE}"
"""
    write_catalogue(path, label=label)
    write_text_atomically(path, text, label=label)
