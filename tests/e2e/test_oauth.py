"""Exchange Online over EWS with app-only OAuth: msal tokens from a fake Entra ID, used against the fake
Exchange by the real sync engine, with caching, refresh, revocation and refusal.

Everything runs for real over loopback: msal talks HTTPS to :class:`FakeTokenService` (trusting its
self-signed certificate through ``ca_bundle``, although this machine sets ``REQUESTS_CA_BUNDLE``), and
exchangelib sends ``Authorization: Bearer`` to :class:`FakeExchange`, which accepts only the tokens the
token service issued and has not revoked or seen expire. The EWS endpoint is plain http here, so each
test sets ``OAUTHLIB_INSECURE_TRANSPORT`` (production code never does).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from exchangelib.protocol import close_connections
from lxml import etree

from connector.auth import OAuthSettings
from connector.engine import MailboxReport, SyncSettings
from connector.errors import AuthenticationFailed
from connector.ews.auth import MsalCredentials
from connector.ews.client import EwsConnection
from connector.ews.reader import EwsMailboxSync
from connector.ews.settings import EwsSettings
from connector.fake.company.generator import build_company
from connector.fake.company.names import OWN_DOMAIN
from connector.fake.ews.server import FakeExchange
from connector.fake.tokens import FakeTokenService, sha1_thumbprint
from mapping.changes import FolderName, SyncRules
from mapping.store.migrate import upgrade
from mapping.store.store import Store
from scheduler.config import ConfigError, load_config
from scheduler.jobs import ews_settings, run_sync

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "fake-secret-Zq8~x"
CERT_CLIENT_ID = "66666666-7777-8888-9999-000000000000"
FOLDERS: list[FolderName] = ["contacts", "inbox", "sentitems", "calendar"]


@dataclass
class World:
    ex: FakeExchange
    idp: FakeTokenService
    store: Store
    db_url: str
    connections: list[EwsConnection] = field(default_factory=list)

    @property
    def mailboxes(self) -> list[str]:
        return list(self.ex.mailboxes)

    def settings(self, secret: str = SECRET, **kw: object) -> EwsSettings:
        oauth = OAuthSettings(
            tenant_id=self.idp.tenant,
            client_id=CLIENT_ID,
            client_secret=secret,
            authority_host=self.idp.authority_host,
            ca_bundle=self.idp.ca_file,
        )
        return EwsSettings(endpoint=self.ex.url, auth="oauth", oauth=oauth, server_version="ExchangeOnline", **kw)  # type: ignore[arg-type]

    def connect(self, settings: EwsSettings | None = None) -> EwsConnection:
        connection = EwsConnection(settings or self.settings())
        self.connections.append(connection)
        return connection

    def engine(self, connection: EwsConnection) -> EwsMailboxSync:
        return EwsMailboxSync(
            connection,
            self.store,
            SyncRules(internal_domains=frozenset({OWN_DOMAIN})),
            SyncSettings(),
            sleep=lambda s: None,
        )


@pytest.fixture
def world(ews_schema: etree.XMLSchema, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake EWS endpoint is http
    ex = FakeExchange(build_company(7, 2, "tiny"), validate=ews_schema).start()
    idp = FakeTokenService(exchange=ex, clients={CLIENT_ID: SECRET}).start()
    upgrade(sqlite_url)
    w = World(ex, idp, Store(sqlite_url), sqlite_url)
    yield w
    for connection in w.connections:
        connection.close()
    close_connections()
    idp.stop()
    ex.stop()
    w.store.dispose()
    assert ex.violations == [], "the fake sent responses that fail the EWS schema"


def synced(report: MailboxReport) -> int:
    assert report.ok, report.error
    return sum(f.result.created + f.result.updated for f in report.folders)


# ----------------------------------------------------------------------------------- the happy path
def test_a_mailbox_syncs_over_oauth_with_one_token(world: World) -> None:
    connection = world.connect()
    report = world.engine(connection).sync(world.mailboxes[0], FOLDERS)
    assert synced(report) > 50
    assert [f.folder for f in report.folders] == FOLDERS
    assert world.ex.stats.operations["SyncFolderItems"] >= 4
    assert world.idp.token_requests == 1 and world.idp.refused_requests == 0


def test_second_mailbox_reuses_the_cached_token_and_the_connection_pool(world: World) -> None:
    connection = world.connect()
    engine = world.engine(connection)
    first, second = (engine.sync(address, FOLDERS) for address in world.mailboxes)
    assert synced(first) > 0 and synced(second) > 0
    assert world.idp.token_requests == 1  # msal's cache served every later request
    a, b = (connection.account(address) for address in world.mailboxes)
    assert a.protocol is b.protocol
    # A new connection with its own TokenSource has its own (empty) cache; one handed the first
    # connection's TokenSource (what a daemon should keep between runs) takes the cached token.
    world.connect(world.settings())
    assert world.idp.token_requests == 2
    assert isinstance(connection.credentials, MsalCredentials)
    shared = EwsConnection(world.settings(), token_source=connection.credentials.source)
    world.connections.append(shared)
    assert world.idp.token_requests == 2


# ----------------------------------------------------------------------------------- expiry and refusal
def test_an_expired_token_is_refreshed_before_the_request(world: World) -> None:
    world.idp.expires_in = 2
    connection = world.connect()
    engine = world.engine(connection)
    assert synced(engine.sync(world.mailboxes[0], ["contacts"])) > 0
    time.sleep(2.2)  # oauthlib now finds the token expired; exchangelib asks MsalCredentials.refresh
    assert synced(engine.sync(world.mailboxes[0], ["inbox", "sentitems", "calendar"])) > 0
    assert world.idp.token_requests >= 2


def test_a_token_exchange_says_has_expired_is_replaced_once_and_the_sync_completes(world: World) -> None:
    connection = world.connect()
    world.ex.faults.add("token_expired", operation="SyncFolderItems")
    report = world.engine(connection).sync(world.mailboxes[0], FOLDERS)
    assert synced(report) > 0
    assert world.ex.stats.faults["token_expired"] == 1
    assert world.idp.token_requests == 2  # msal thought the first one valid for an hour: forced once


def test_a_revoked_token_is_replaced_between_folders(world: World) -> None:
    connection = world.connect()
    engine = world.engine(connection)
    assert synced(engine.sync(world.mailboxes[0], ["contacts"])) > 0
    world.idp.revoke()
    assert synced(engine.sync(world.mailboxes[0], ["inbox"])) > 0
    world.idp.expire()  # server-side expiry of every token so far, msal still caches the last one
    assert synced(engine.sync(world.mailboxes[1], FOLDERS)) > 0
    assert world.idp.token_requests == 3


def test_a_token_service_outage_keeps_the_current_token_and_leaks_no_connection(world: World) -> None:
    world.idp.expires_in = 2
    connection = world.connect(world.settings(max_connections=1))  # a leaked session would hang the last sync
    world.idp.accepted.expires_at.clear()  # Exchange accepts the first token for longer than msal believes
    engine = world.engine(connection)
    world.idp.clients[CLIENT_ID] = "rotated"  # from now on the token service refuses us
    time.sleep(2.2)
    assert synced(engine.sync(world.mailboxes[0], ["contacts"])) > 0  # renewal failed: current token kept
    assert world.idp.refused_requests >= 1
    world.idp.revoke()  # now Exchange refuses it too: the failure surfaces, as a sentence
    with pytest.raises(AuthenticationFailed, match="refused app"):
        engine.sync(world.mailboxes[0], ["inbox"])
    world.idp.clients[CLIENT_ID] = SECRET  # the secret is fixed: the same connection recovers
    assert synced(engine.sync(world.mailboxes[0], ["inbox"])) > 0


def test_an_app_exchange_refuses_gives_one_sentence_not_a_token_loop(world: World) -> None:
    world.idp.register = False  # tokens are issued, Exchange refuses them (no full_access_as_app)
    connection = world.connect()
    with pytest.raises(AuthenticationFailed) as info:
        world.engine(connection).sync(world.mailboxes[0], FOLDERS)
    assert "full_access_as_app" in str(info.value)
    assert world.idp.token_requests == 2  # the first, and one forced fresh one


def test_wrong_client_secret_is_a_clear_sentence_without_the_secret(world: World) -> None:
    with pytest.raises(AuthenticationFailed) as info:
        world.connect(world.settings(secret="not-the-secret"))
    message = str(info.value)
    assert "refused app" in message and CLIENT_ID in message and "invalid_client" in message
    assert "Fix: check exchange.oauth.tenant_id, client_id and the client secret" in message
    assert "not-the-secret" not in message and SECRET not in message
    assert world.ex.stats.operations == {}  # nothing reached Exchange


def test_secrets_and_tokens_stay_out_of_repr(world: World) -> None:
    connection = world.connect()
    credentials = connection.credentials
    assert isinstance(credentials, MsalCredentials)
    token = credentials.token
    assert token
    for text in (repr(connection.settings), str(connection.settings), repr(credentials), str(credentials)):
        assert SECRET not in text and token not in text


# ----------------------------------------------------------------------------------- certificate
def _certificate(tmp_path: Path) -> tuple[Path, bytes]:
    """An RSA key and self-signed certificate, both in one PEM file (as ``openssl pkcs12 -nodes`` writes)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relsync app")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = tmp_path / "app.pem"
    path.write_bytes(key_pem + cert_pem)
    return path, cert_pem


def test_certificate_credentials_from_the_config(world: World, tmp_path: Path) -> None:
    pem_file, cert_pem = _certificate(tmp_path)
    world.idp.certificates[CERT_CLIENT_ID] = x509.load_pem_x509_certificate(cert_pem)
    config = _write_config(
        tmp_path,
        world,
        f"""
client_id = "{CERT_CLIENT_ID}"
certificate_file = "app.pem"
certificate_thumbprint = "{sha1_thumbprint(cert_pem)}"
""",
    )
    reports = run_sync(load_config(config), folders=["contacts"])
    assert all(synced(r) > 0 for r in reports)
    assert world.idp.token_requests == 1
    # Another app's certificate with this thumbprint: the signature does not match.
    (tmp_path / "other").mkdir()
    other, _ = _certificate(tmp_path / "other")
    pem_file.write_bytes(other.read_bytes())
    with pytest.raises(AuthenticationFailed, match=r"refused app .*invalid_client.*AADSTS700027"):
        run_sync(load_config(config), folders=["contacts"])


# ----------------------------------------------------------------------------------- from the config
def _write_config(tmp_path: Path, world: World, credential: str) -> Path:
    config = tmp_path / "relsync.toml"
    config.write_text(
        f"""
[store]
url = "{world.db_url}"

[exchange]
endpoint = "{world.ex.url}"
server_version = "ExchangeOnline"
auth = "oauth"

[exchange.oauth]
tenant_id = "{world.idp.tenant}"
authority_host = "{world.idp.authority_host}"
ca_bundle = "{world.idp.ca_file}"
{credential}

[mailboxes]
addresses = {world.mailboxes!r}

[organisation]
internal_domains = ["{OWN_DOMAIN}"]
""".replace("'", '"')
    )
    return config


def test_run_sync_from_a_config_with_a_client_secret_file(world: World, tmp_path: Path) -> None:
    (tmp_path / "client-secret").write_text(SECRET + "\n")
    config = _write_config(tmp_path, world, f'client_id = "{CLIENT_ID}"\nclient_secret_file = "client-secret"')
    reports = run_sync(load_config(config))
    assert [r.mailbox for r in reports] == world.mailboxes
    assert all(synced(r) > 0 for r in reports)
    assert world.idp.token_requests == 1


def test_the_cli_says_a_wrong_secret_in_one_line(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scheduler.cli import main

    monkeypatch.setenv("RELSYNC_TEST_CLIENT_SECRET", "wrong-" + SECRET)
    credential = f'client_id = "{CLIENT_ID}"\nclient_secret_env = "RELSYNC_TEST_CLIENT_SECRET"'
    config = _write_config(tmp_path, world, credential)
    with pytest.raises(SystemExit) as info:
        main(["--config", str(config), "run-once"])
    assert info.value.code == 4
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("relsync: exchange: the token service at ") and "invalid_client" in last
    assert SECRET not in err and "Traceback" not in err


def test_oauth_over_plain_http_is_refused_outside_tests(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT")
    (tmp_path / "client-secret").write_text(SECRET)
    config = _write_config(tmp_path, world, f'client_id = "{CLIENT_ID}"\nclient_secret_file = "client-secret"')
    with pytest.raises(ConfigError, match=r"exchange\.endpoint: auth = 'oauth' sends access tokens"):
        ews_settings(load_config(config))
