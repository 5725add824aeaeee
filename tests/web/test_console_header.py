"""Behind a company reverse proxy: the user header is believed only from the configured proxy addresses,
and POSTs still need the session's CSRF token (plain HTTP requests against ``relsync serve``)."""

from __future__ import annotations

import json

import requests
from click.testing import CliRunner
from consoleenv import Demo, free_port, serving, web_section, write_config

from scheduler.cli import cli


def pending_pairs(config: str) -> list[dict[str, object]]:
    out = CliRunner().invoke(cli, ["--config", config, "duplicates", "list", "--status", "all", "--json"])
    assert out.exit_code == 0, out.output
    rows: list[dict[str, object]] = json.loads(out.output)
    return rows


def test_the_user_header_from_a_configured_proxy_signs_in_and_from_elsewhere_is_refused(demo: Demo) -> None:
    trusted_port, other_port = free_port(), free_port()
    trusting = write_config(demo, "console-proxy.toml", web_section(
        demo, trusted_port, None, auth='"header"', trusted_header='"X-Remote-User"',
        trusted_proxies='["127.0.0.1"]'))
    elsewhere = write_config(demo, "console-other-proxy.toml", web_section(
        demo, other_port, None, auth='"header"', trusted_proxies='["10.9.9.9"]'))
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
        refused = requests.post(f"{url}/duplicates/{pair['id']}/merge", headers={"X-Remote-User": demo.admin},
                                data={"status": "pending"}, timeout=10, allow_redirects=False)
        assert refused.status_code == 403 and "CSRF" in refused.text
        assert pending_pairs(str(trusting)) == before
    with serving(elsewhere, other_port) as url:
        forged = requests.get(f"{url}/relationships", headers={"X-Remote-User": demo.admin}, timeout=10)
        assert forged.status_code == 403
        assert "only accepted from the configured proxies" in forged.text
        assert demo.admin not in forged.text
