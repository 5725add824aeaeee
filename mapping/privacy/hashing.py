"""Keyed hashes: how relsync remembers an address (suppression) or chains its audit log without
keeping the address itself. HMAC-SHA256 with the deployment's audit key: without the key a hash
cannot be tested against a guessed address, so the suppression list is no list of e-mail addresses."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any


def normalise_address(address: str) -> str:
    """What is hashed: the address trimmed and case-folded (as the store normalises addresses)."""
    return address.strip().lower()


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of ``value`` (UTF-8) under ``key``, as 64 hex digits."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def address_hash(key: bytes, address: str) -> str:
    """The keyed hash of a normalised e-mail address (the suppression list's key)."""
    return keyed_hash(key, "address:" + normalise_address(address))


def canonical(value: Any) -> str:
    """One byte-exact JSON text for a value (sorted keys, no spaces), the input of a chained hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
