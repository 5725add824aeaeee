"""Behind a company reverse proxy: the user header is believed only from the configured proxy addresses,
and POSTs still need the session's CSRF token (plain HTTP requests against ``relsync serve``)."""

from __future__ import annotations

import json

import pytest
import requests
from click.testing import CliRunner

from connector.fake.httpserver import self_signed_certificate
from mapping.store.store import Store
from scheduler.cli import cli
from scheduler.config import load_config
from scheduler.web.server import ConsoleThread, console_app, listen_of
from tests.web.consoleenv import Demo, free_port, serving, web_section, write_config


def pending_pairs(config: str) -> list[dict[str, object]]:
    out = CliRunner().invoke(cli, ["--config", config, "duplicates", "list", "--status", "all", "--json"])
    assert out.exit_code == 0, out.output
    rows: list[dict[str, object]] = json.loads(out.output)
    return rows


def test_the_user_header_from_a_configured_proxy_signs_in_and_from_elsewhere_is_refused(demo: Demo) -> None:
    trusted_port, other_port = free_port(), free_port()
    trusting = write_config(
        demo,
        "console-proxy.toml",
        web_section(
            demo, trusted_port, None, auth='"header"', trusted_header='"X-Remote-User"', trusted_proxies='["127.0.0.1"]'
        ),
    )
    elsewhere = write_config(
        demo,
        "console-other-proxy.toml",
        web_section(demo, other_port, None, auth='"header"', trusted_proxies='["10.9.9.9"]'),
    )
    with serving(trusting, trusted_port) as url:
        ok = requests.get(f"{url}/relationships", headers={"X-Remote-User": demo.manager}, timeout=10)
        assert ok.status_code == 200 and f"{demo.manager} (manager)" in ok.text
        none = requests.get(f"{url}/relationships", timeout=10)
        assert none.status_code == 401 and "reverse proxy must authenticate you" in none.text
        staff = requests.get(f"{url}/duplicates", headers={"X-Remote-User": demo.staff}, timeout=10)
        assert staff.status_code == 403

        # An admin's POST without the form's CSRF token: refused, and the queue is as it was.
        before = pending_pairs(str(trusting))
        pair = next(p for p in before if p["status"] == "pending")
        refused = requests.post(
            f"{url}/duplicates/{pair['id']}/merge",
            headers={"X-Remote-User": demo.admin},
            data={"status": "pending"},
            timeout=10,
            allow_redirects=False,
        )
        assert refused.status_code == 403 and "CSRF" in refused.text
        assert pending_pairs(str(trusting)) == before
    with serving(elsewhere, other_port) as url:
        forged = requests.get(f"{url}/relationships", headers={"X-Remote-User": demo.admin}, timeout=10)
        assert forged.status_code == 403
        assert "only accepted from the configured proxies" in forged.text
        assert demo.admin not in forged.text


def test_the_console_serves_https_from_a_configured_certificate_in_a_background_thread(demo: Demo) -> None:
    """What ``relsync daemon`` does with ``[web] enabled``: the console in a thread, here with TLS."""
    cert, key = self_signed_certificate(demo.directory, "relsync console test")
    port = free_port()
    config = write_config(
        demo,
        "console-tls.toml",
        web_section(
            demo, port, None, auth='"header"', enabled="true", tls_certificate=f'"{cert.name}"', tls_key=f'"{key.name}"'
        ),
    )
    loaded = load_config(config)
    store = Store(loaded.config.store.url)
    where = listen_of(loaded)
    assert where.url == f"https://127.0.0.1:{port}/"
    console = ConsoleThread(console_app(loaded, store), where).start()
    try:
        page = requests.get(
            f"https://127.0.0.1:{port}/health", headers={"X-Remote-User": demo.admin}, verify=str(cert), timeout=10
        )
        assert page.status_code == 200 and demo.staff in page.text
        cookie = page.headers.get("set-cookie", "")
        assert "httponly" in cookie.lower() and "secure" in cookie.lower() and "samesite=lax" in cookie.lower()
    finally:
        console.stop()
        store.dispose()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"https://127.0.0.1:{port}/health", verify=str(cert), timeout=5)
