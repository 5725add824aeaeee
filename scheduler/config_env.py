"""Configuration overrides from the environment, as admins expect of a service.

Any key of the TOML file can be set by an environment variable named ``RELSYNC_`` + the key's
sections and name in capitals, joined by double underscores::

    RELSYNC_SYNC__PAGE_SIZE=100                    # [sync] page_size = 100
    RELSYNC_EXCHANGE__OAUTH__TENANT_ID=contoso     # [exchange.oauth] tenant_id = "contoso"
    RELSYNC_MAILBOXES__ADDRESSES='["a@x.example", "b@x.example"]'

``RELSYNC_STORE_URL`` is the short, conventional name of ``RELSYNC_STORE__URL``. A value that
starts like a TOML array, inline table or quoted string (``[``, ``{``, ``"``, ``'``) is read as
TOML; anything else is taken as plain text and converted to the key's type by the same validation
as the file (``100`` for a number, ``true`` for a switch), so a URL or a path needs no quotes.

Overrides win over the file and are validated with it; a problem names the variable. Secrets stay
out of overrides as they stay out of the file: ``RELSYNC_EXCHANGE__PASSWORD_ENV`` may name the
variable holding the password, ``RELSYNC_EXCHANGE__PASSWORD`` is refused. ``[[rules]]`` are
ordered blocks of text and can only come from the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PREFIX = "RELSYNC_"
SEPARATOR = "__"
#: Conventional short names for the keys every deployment sets from the environment.
ALIASES = {"RELSYNC_STORE_URL": ("store", "url")}
#: Keys whose values are themselves lists of tables, which a single variable cannot express well.
NOT_OVERRIDABLE = ("rules",)
_TOML_STARTS = ("[", "{", '"', "'")


@dataclass
class EnvOverrides:
    """The overrides found in one environment: which variable set which key, and what went wrong."""

    keys: dict[tuple[str, ...], str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def variable_for(self, loc: tuple[str | int, ...], unknown_key: bool = False) -> str | None:
        """The variable that set the key at ``loc`` (or a value inside it); for an unknown key, also
        the variable that made up a table or key under ``loc`` that the config does not have."""
        path = tuple(str(p) for p in loc if isinstance(p, str))
        for key, name in self.keys.items():
            if path[: len(key)] == key or (unknown_key and key[: len(path)] == path):
                return name
        return None

    def variables_in(self, loc: tuple[str | int, ...]) -> list[str]:
        """The variables that set keys inside the table at ``loc`` (for a problem with the table as a whole)."""
        path = tuple(str(p) for p in loc if isinstance(p, str))
        return [name for key, name in self.keys.items() if key[: len(path)] == path]


def override_key(name: str) -> tuple[str, ...] | None:
    """The config key an environment variable sets, or None when it is not an override."""
    if name in ALIASES:
        return ALIASES[name]
    if not name.startswith(PREFIX) or SEPARATOR not in name:
        return None  # RELSYNC_CONFIG, RELSYNC_TEST_PG_URL, ...: not config keys
    return tuple(part.lower() for part in name.removeprefix(PREFIX).split(SEPARATOR))


def parse_value(raw: str) -> Any:
    """An environment value as the config value it stands for (see the module docstring)."""
    text = raw.strip()
    if text.startswith(_TOML_STARTS):
        return tomllib.loads(f"v = {text}")["v"]
    return text


def apply_env_overrides(
    data: dict[str, Any], environ: Mapping[str, str], secret_words: tuple[str, ...], config_label: str
) -> EnvOverrides:
    """Set every ``RELSYNC_*__*`` override into the parsed file ``data`` (in place).

    ``config_label`` starts each problem (the config file's path), so problems read like the
    file's own: ``FILE: environment variable NAME: what is wrong. Fix: what to do``.
    """
    found = EnvOverrides()
    for name in sorted(environ):
        key = override_key(name)
        if key is None:
            continue
        where = f"{config_label}: environment variable {name}"
        if any(not part for part in key):
            found.problems.append(
                f"{where}: not a key (empty part between double underscores). "
                "Fix: name it RELSYNC_<SECTION>__<KEY>, e.g. RELSYNC_SYNC__PAGE_SIZE"
            )
            continue
        dotted = ".".join(key)
        if key[0] in NOT_OVERRIDABLE:
            found.problems.append(
                f"{where}: [[{key[0]}]] cannot be set from the environment. Fix: unset it and write the "
                f"rules in the config file"
            )
            continue
        last = key[-1]
        if any(w in last for w in secret_words) and not last.endswith(("_env", "_file", "_thumbprint")):
            found.problems.append(
                f"{where}: secrets are not configuration overrides. Fix: unset it; set "
                f"{PREFIX}{SEPARATOR.join(p.upper() for p in key)}_ENV to the name of the variable "
                f"that holds the secret (or {last}_file in the config file)"
            )
            continue
        try:
            value = parse_value(environ[name])
        except tomllib.TOMLDecodeError as exc:
            found.problems.append(
                f"{where}: {dotted}: not a valid TOML value ({exc}). Fix: write an array as "
                '["a", "b"], a string as plain text or in double quotes'
            )
            continue
        table = data
        for n, part in enumerate(key[:-1]):
            inner = table.setdefault(part, {})
            if not isinstance(inner, dict):
                found.problems.append(
                    f"{where}: {'.'.join(key[: n + 1])} is not a table in the config, so it has no key "
                    f"{key[n + 1]}. Fix: unset it or correct its name"
                )
                break
            table = inner
        else:
            table[last] = value
            found.keys[key] = name
    return found
