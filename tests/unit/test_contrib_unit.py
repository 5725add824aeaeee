"""The systemd unit in contrib/ runs what the README promises: a dedicated user, the environment file,
the schema upgrade before start, restarts except on configuration errors, and a stop within the grace."""

from __future__ import annotations

import configparser
from pathlib import Path

from scheduler.config_daemon import DaemonConfig

UNIT = Path(__file__).resolve().parents[2] / "contrib" / "relsync.service"


def unit() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)  # systemd allows a key more than once
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(UNIT, encoding="utf-8")
    return parser


def test_the_unit_runs_the_daemon_as_its_own_user_after_upgrading_the_store() -> None:
    service = unit()["Service"]
    assert service["User"] == "relsync" and service["Group"] == "relsync"
    assert service["ExecStartPre"].endswith("relsync db upgrade")
    assert service["ExecStart"].endswith("relsync daemon")
    assert service["EnvironmentFile"] == "/etc/relsync/relsync.env"
    assert service["Environment"] == "RELSYNC_CONFIG=/etc/relsync/relsync.toml"


def test_the_unit_restarts_on_failure_but_not_on_a_configuration_error() -> None:
    service = unit()["Service"]
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "2"  # relsync's exit code for "fix the config"
    assert "StartLimitBurst" in unit()["Unit"]


def test_systemd_waits_longer_than_the_daemon_needs_to_stop() -> None:
    service = unit()["Service"]
    grace = DaemonConfig.model_fields["shutdown_grace_seconds"].default
    assert float(service["TimeoutStopSec"]) > max(grace, 30)


def test_the_unit_is_hardened() -> None:
    service = unit()["Service"]
    for key, value in {
        "NoNewPrivileges": "true",
        "ProtectSystem": "strict",
        "ProtectHome": "true",
        "PrivateTmp": "true",
        "CapabilityBoundingSet": "",
        "UMask": "0077",
    }.items():
        assert service[key] == value, key
