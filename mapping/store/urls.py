"""Store URLs read as SQLAlchemy reads them, and shown as SQLAlchemy shows them: password masked.

The configuration checks ``store.url`` with :func:`check_store_url` at load time, so a URL that
SQLAlchemy cannot parse (a port that is not a number, a missing ``//``) is a configuration problem
naming the key, not a traceback on first use; and every message that quotes a URL quotes
:func:`masked_url`, never the URL itself (``postgresql+psycopg://relsync:***@db/relsync``, the form of
SQLAlchemy's ``URL.render_as_string(hide_password=True)``).
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: ``scheme://user:password@``: what is masked in a URL SQLAlchemy cannot parse.
_USERINFO = re.compile(r"(://[^:/@?#]*:)[^@/]*@")


def masked_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (also when SQLAlchemy cannot parse it)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _USERINFO.sub(r"\1***@", url)


def url_password(url: str) -> str | None:
    """The password inside ``url``, if it holds one (None when it cannot be parsed)."""
    try:
        return make_url(url).password
    except (ArgumentError, ValueError):
        return None


def has_password(url: str) -> bool:
    """Whether ``url`` carries a password (parsed, or by its ``user:password@`` shape when unparsable)."""
    try:
        return make_url(url).password is not None
    except (ArgumentError, ValueError):
        return _USERINFO.search(url) is not None


def check_store_url(url: str) -> str | None:
    """Why SQLAlchemy cannot use ``url`` as the store (one phrase, quoting only the masked URL), or None."""
    if not url.startswith(("sqlite:", "postgresql")):
        return f"only sqlite:/// and postgresql+psycopg:// URLs are supported (got {masked_url(url)!r})"
    try:
        make_url(url)
    except ValueError as exc:  # make_url's int() of a port such as "5432x"
        why = "its port is not a number" if "int()" in str(exc) else "it cannot be parsed"
        return f"not a database URL: {why} (got {masked_url(url)!r})"
    except ArgumentError:
        return (
            f"not a database URL SQLAlchemy can read (got {masked_url(url)!r}); write it like "
            "sqlite:///relsync.db or postgresql+psycopg://user@host:5432/relsync"
        )
    return None


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite ``url``; None for another backend or an in-memory database."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)
