"""Choosing EWS or Microsoft Graph per mailbox, and what a config missing a backend's section gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.config import ConfigError, load_config, parse_config

GRAPH_ONLY = """
[graph]
tenant_id = "contoso.onmicrosoft.com"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret_file = "secret.txt"

[mailboxes]
addresses = ["alice@example.com", "bob@example.com"]
backend = "graph"

[organisation]
internal_domains = ["example.com"]
"""

HYBRID = (
    GRAPH_ONLY.replace('backend = "graph"', 'backend = "ews"\nbackends = { "Bob@Example.com" = "graph" }')
    + """
[exchange]
endpoint = "https://mail.example.com/EWS/Exchange.asmx"
auth = "basic"
username = "svc@example.com"
password_env = "RELSYNC_TEST_PW"
"""
)


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("relsync.toml"))
    return info.value.problems


def test_graph_only_config_needs_no_exchange_section() -> None:
    config = parse_config(GRAPH_ONLY, Path("relsync.toml"))
    assert config.exchange is None
    assert config.graph is not None and config.graph.base_url == "https://graph.microsoft.com/v1.0"
    assert config.graph.max_concurrency_per_mailbox == 4 and config.graph.batch_size == 20
    assert {config.mailboxes.backend_of(a) for a in config.mailboxes.addresses} == {"graph"}


def test_hybrid_config_routes_each_mailbox_to_its_backend() -> None:
    config = parse_config(HYBRID, Path("relsync.toml"))
    assert config.mailboxes.backend_of("alice@example.com") == "ews"
    assert config.mailboxes.backend_of("BOB@example.com") == "graph"


def test_graph_mailboxes_without_graph_section_say_what_to_add() -> None:
    text = HYBRID.replace(GRAPH_ONLY.split("[mailboxes]")[0], "")
    (problem,) = problems_of(text)
    assert problem.startswith("relsync.toml: ")
    assert "no [graph] section" in problem and "tenant_id, client_id" in problem


def test_ews_mailboxes_without_exchange_section_say_what_to_add() -> None:
    text = GRAPH_ONLY.replace('backend = "graph"', 'backend = "ews"')
    (problem,) = problems_of(text)
    assert "no [exchange] section" in problem and 'mailboxes.backend = "graph"' in problem


def test_backends_may_only_name_configured_mailboxes() -> None:
    text = GRAPH_ONLY.replace('backend = "graph"', 'backend = "graph"\nbackends = { "carol@example.com" = "ews" }')
    (problem,) = problems_of(text)
    assert problem.startswith("relsync.toml: mailboxes: ")
    assert "not in addresses: carol@example.com" in problem


def test_unknown_backend_is_named_with_the_allowed_values() -> None:
    text = GRAPH_ONLY.replace('backend = "graph"', 'backend = "rest"')
    (problem,) = problems_of(text)
    assert "mailboxes.backend" in problem and "'ews'" in problem and "'graph'" in problem


def test_graph_secret_in_the_file_is_refused() -> None:
    text = GRAPH_ONLY.replace('client_secret_file = "secret.txt"', 'client_secret = "hunter2"')
    (problem,) = problems_of(text)
    assert "graph.client_secret: secrets must not be written in the config file" in problem
    assert "hunter2" not in problem


def test_graph_needs_https_and_at_most_four_requests_per_mailbox() -> None:
    text = GRAPH_ONLY.replace(
        'client_secret_file = "secret.txt"',
        'client_secret_file = "secret.txt"\nbase_url = "http://graph.local/v1.0"\nmax_concurrency_per_mailbox = 8',
    )
    problems = problems_of(text)
    assert any("graph.base_url" in p and "https://" in p for p in problems)
    assert any("graph.max_concurrency_per_mailbox" in p for p in problems)


def test_graph_secret_file_is_relative_to_the_config(tmp_path: Path) -> None:
    path = tmp_path / "relsync.toml"
    path.write_text(GRAPH_ONLY)
    loaded = load_config(path, environ={})
    assert loaded.config.graph is not None
    assert loaded.config.graph.client_secret_file == tmp_path / "secret.txt"
