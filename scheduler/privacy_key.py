"""The audit key: where it comes from, and registering it (and who is acting) for this process.

``[privacy] audit_key_env`` names an environment variable, ``audit_key_file`` a file (relative paths
beside the config); with neither, a random key is generated on first use into ``<config>.audit-key``
beside the configuration file, mode 0600, created exclusively so two processes starting at once end
up with the same key. The key is read lazily: a command that writes no audit entry reads no key.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from mapping.files import write_text_atomically
from mapping.store import audit
from scheduler.config import LoadedConfig, SecretError, resolve_secret


def generated_key_path(loaded: LoadedConfig) -> Path:
    """Where the generated key lives when none is configured: beside the configuration file."""
    return loaded.path.resolve().parent / f"{loaded.path.name}.audit-key"


def _generated(path: Path) -> str:
    if not path.exists():
        # A staging name of its own per call: two threads of one daemon may both get here first.
        staging = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.new")
        write_text_atomically(staging, secrets.token_hex(32) + "\n", label="audit key")
        try:
            os.link(staging, path)  # fails if another process created it first: then use theirs
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(OSError):
                staging.unlink()
    return resolve_secret(None, path, "privacy.audit_key_file (generated)")


def read_key(loaded: LoadedConfig) -> bytes:
    """The audit key as configured, or the generated one (created on first use)."""
    section = loaded.config.privacy
    file = section.audit_key_file
    if file is not None and not file.is_absolute():
        file = loaded.path.resolve().parent / file
    if section.audit_key_env is not None or file is not None:
        value = resolve_secret(section.audit_key_env, file, "privacy.audit_key")
    else:
        value = _generated(generated_key_path(loaded))
    if len(value) < 16:
        raise SecretError(
            "privacy.audit_key: the audit key is shorter than 16 characters. "
            "Fix: use a long random value (e.g. `openssl rand -hex 32`)"
        )
    return value.encode("utf-8")


def use_configured_key(loaded: LoadedConfig) -> None:
    """Make this process's audit entries and suppression hashes use this configuration's key (read on
    first use; :func:`~scheduler.config.load_config` calls this)."""
    audit.use_key(lambda: read_key(loaded))


def register(loaded: LoadedConfig, actor: str | None = None) -> None:
    """Make this process's audit entries and suppression hashes use the configured key (read on first
    use), by ``actor`` (default: the user running the command)."""
    audit.use_key(lambda: read_key(loaded))
    audit.set_actor(actor)
