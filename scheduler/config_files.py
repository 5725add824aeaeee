"""Reading the config file and secret files: bounded, UTF-8, and every refusal one sentence.

Both are read as bytes with a ceiling (a config or secret file is small; ``/dev/zero`` or a log file
named by mistake must not fill memory), then decoded as UTF-8:

- a config file that starts with a byte-order mark is refused saying so (TOML has no BOM; editors
  such as Notepad add one), one in UTF-16 likewise; other undecodable bytes are named by line and
  column so the admin can find them;
- a secret file that is not UTF-8 is refused without a byte, line or column of it: the message names
  the file and the fix only;
- a secret file that group or others may read is used, with a warning naming the file (never its
  content), once per file and process.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

#: A config file is a few kilobytes; a long [[rules]] list a few hundred.
MAX_CONFIG_BYTES = 4 * 1024 * 1024
#: A password or client secret is under a kilobyte, a PEM certificate with its key and chain a few.
MAX_SECRET_BYTES = 64 * 1024

_BOMS = (
    (b"\xef\xbb\xbf", "a UTF-8 byte-order mark (BOM)"),
    (b"\xff\xfe", "a UTF-16 byte-order mark: the file is UTF-16"),
    (b"\xfe\xff", "a UTF-16 byte-order mark: the file is UTF-16"),
)
_warned: set[Path] = set()


class FileProblem(Exception):
    """The file cannot be used; ``str()`` is one sentence naming the file and the fix."""


def _read_bounded(path: Path, limit: int) -> tuple[bytes, os.stat_result]:
    """At most ``limit + 1`` bytes of ``path`` (one more than allowed shows it is too big), and its stat."""
    with path.open("rb") as handle:
        info = os.fstat(handle.fileno())
        return handle.read(limit + 1), info


def read_config_text(path: Path) -> str:
    """The config file's text; raises :class:`FileNotFoundError` / :class:`OSError` as ``open`` does,
    and :class:`FileProblem` for a file that is too big, has a BOM or is not UTF-8."""
    data, _ = _read_bounded(path, MAX_CONFIG_BYTES)
    if len(data) > MAX_CONFIG_BYTES:
        raise FileProblem(
            f"{path}: larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB, which no relsync config "
            "is. Fix: check that --config (or RELSYNC_CONFIG) names the config file"
        )
    for bom, what in _BOMS:
        if data.startswith(bom):
            raise FileProblem(
                f"{path}: starts with {what}, which TOML does not allow. Fix: save it as UTF-8 "
                'without BOM (in Notepad: Save as, Encoding "UTF-8"; or remove the first bytes)'
            )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise FileProblem(
            f"{path}: not UTF-8 text (an invalid byte at line {line}, column {column}). Fix: save the file as UTF-8"
        ) from None


def read_secret_file(path: Path, what: str) -> str:
    """The secret in ``path`` (surrounding whitespace stripped). ``what`` names the config key.

    Raises :class:`OSError` as ``open`` does, and :class:`FileProblem` when it is too big, endless or
    not UTF-8 (the message never holds any of its bytes). Warns, naming the file, when group or
    others may read it.
    """
    data, info = _read_bounded(path, MAX_SECRET_BYTES)
    if len(data) > MAX_SECRET_BYTES:
        raise FileProblem(
            f"{what}: {path} is larger than {MAX_SECRET_BYTES // 1024} KiB (or endless), which no "
            "secret is. Fix: point it at the file that holds only the secret"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Not even the position: it would narrow down the secret.
        raise FileProblem(
            f"{what}: {path} is not UTF-8 text. Fix: write the secret into it as UTF-8 "
            "(e.g. with printf '%s\\n' ... > FILE)"
        ) from None
    if stat.S_ISREG(info.st_mode) and info.st_mode & 0o077 and path not in _warned:
        _warned.add(path)
        log.warning(
            f"{what}: {path} can be read by group or others (mode {stat.filemode(info.st_mode)}). "
            f"Fix: chmod 600 {path} (readable by the service's user only)",
            path=str(path),
        )
    return text.strip()
