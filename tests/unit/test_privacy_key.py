"""The audit key: generated once beside the configuration (0600) when none is configured, else read
from the configured environment variable or file; too short a key is one clear sentence."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from scheduler.config import SecretError, load_config
from scheduler.privacy_key import generated_key_path, read_key

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, extra: str = "") -> Path:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    path = tmp_path / "relsync.toml"
    path.write_text(text.replace("keep_transactions = true\n", f"keep_transactions = true\n{extra}"), encoding="utf-8")
    return path


def test_a_key_is_generated_once_beside_the_config_readable_by_the_owner_only(tmp_path: Path) -> None:
    loaded = load_config(_config(tmp_path))
    first = read_key(loaded)
    path = generated_key_path(loaded)
    assert path == tmp_path / "relsync.toml.audit-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) == 64
    assert read_key(load_config(_config(tmp_path))) == first  # the same key on every later start
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging file left


def test_a_configured_environment_variable_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELSYNC_TEST_AUDIT_KEY", "k" * 40)
    loaded = load_config(_config(tmp_path, 'audit_key_env = "RELSYNC_TEST_AUDIT_KEY"\n'))
    assert read_key(loaded) == b"k" * 40
    assert not generated_key_path(loaded).exists()


def test_a_short_key_file_is_refused_in_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "audit.key").write_text("short\n", encoding="utf-8")
    (tmp_path / "audit.key").chmod(0o600)
    loaded = load_config(_config(tmp_path, 'audit_key_file = "audit.key"\n'))
    with pytest.raises(SecretError, match="shorter than 16 characters"):
        read_key(loaded)
