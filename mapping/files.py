"""Files relsync writes by hand-run commands (exports, written configs and secrets, the SQLite store).

One rule for all of them: the target is never opened for writing before the content is complete. The
content goes to a temporary file beside the target, created readable by its owner only whatever the
umask, and is renamed into place only when it was written in full; on any failure the temporary file
is removed and an existing target is left exactly as it was (a failed ``export -o`` cannot empty a
file, and a half-written config never exists). Failures of the file system (missing directory,
read-only place, full disk) become :class:`FileWriteError`: one sentence naming the file and the fix.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO

from mapping.errors import EXIT_USAGE, RelsyncError

#: Readable and writable by the owner only: the default for everything relsync creates.
OWNER_ONLY = 0o600

# Errors of the file system, not of the caller: said as a sentence with the fix, never a traceback.
_WRITE_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EFBIG,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.ENOENT,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EIO,
    errno.ENAMETOOLONG,
}


class FileWriteError(RelsyncError):
    """A file could not be written; the message names it (and the argument that named it) and the fix.
    A usage problem: the file that was there is untouched."""

    exit_code = EXIT_USAGE

    def __init__(self, path: Path, reason: str, fix: str, label: str | None = None) -> None:
        self.path, self.reason, self.fix, self.label = path, reason, fix, label
        where = f"{label} {path}" if label else str(path)
        super().__init__(f"{where}: {reason}. Fix: {fix}")


def describe_os_error(path: Path, exc: OSError, label: str | None = None) -> FileWriteError:
    """``exc`` (raised while writing ``path``) as a :class:`FileWriteError` with the fix for its cause."""
    folder = path.parent
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        reason, fix = f"no space left on the disk holding {folder}", "free some space, or write to another disk"
    elif code == errno.EFBIG:
        reason, fix = "the file grew larger than this process may write", "raise the file size limit"
    elif code == errno.EROFS:
        reason, fix = f"{folder} is on a read-only file system", "choose a file in a writable directory"
    elif code in (errno.EACCES, errno.EPERM):
        reason, fix = f"permission denied writing in {folder}", "choose a file in a directory you may write to"
    elif code == errno.ENOENT:
        reason, fix = f"the directory {folder} does not exist", "create it, or choose a file in an existing directory"
    elif code in (errno.ENOTDIR, errno.EEXIST):  # EEXIST: creating the directory found a file there
        reason, fix = f"{folder} is not a directory", "choose a file in an existing directory"
    elif code == errno.EISDIR:
        reason, fix = "it is a directory", "name a file, not a directory"
    else:
        reason, fix = f"cannot be written ({exc.strerror or type(exc).__name__})", "choose another file"
    return FileWriteError(path, reason, fix, label)


@contextmanager
def replace_atomically(
    path: Path, *, mode: int = OWNER_ONLY, label: str | None = None, newline: str | None = None
) -> Iterator[TextIO]:
    """Yield a UTF-8 text stream whose content replaces ``path`` only when the ``with`` block succeeds.

    The stream writes a temporary file beside ``path`` (same directory, so the rename is atomic),
    created with ``mode`` exactly (``0600`` by default, whatever the umask); it is flushed to disk
    and renamed over ``path``. An exception in the block or while writing removes the temporary file
    and leaves ``path`` untouched; a file-system failure is raised as :class:`FileWriteError` (with
    ``label``, the argument that named the file), anything else as it was.

    A target that exists and is not a regular file (``/dev/stdout``, a pipe, a device) is written
    directly: there is nothing to replace, and renaming over it would be wrong.
    """
    if path.is_symlink():
        path = Path(os.path.realpath(path))  # replace the file the link points at, keep the link
    try:
        special = path.exists() and not stat.S_ISREG(path.stat().st_mode) and not path.is_dir()
    except OSError:
        special = False
    if special:
        try:
            with path.open("w", encoding="utf-8", newline=newline) as direct:
                yield direct
        except OSError as exc:
            if exc.errno not in _WRITE_ERRNOS:
                raise
            raise describe_os_error(path, exc, label) from None
        return
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise describe_os_error(path, exc, label) from None
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
            raise describe_os_error(path, exc, label) from None
        raise
    _sync_directory(path.parent)


def write_text_atomically(path: Path, text: str, *, mode: int = OWNER_ONLY, label: str | None = None) -> None:
    """Replace ``path`` with ``text`` as :func:`replace_atomically` does (``mode`` 0600 by default)."""
    with replace_atomically(path, mode=mode, label=label) as stream:
        stream.write(text)


def create_owner_only(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (so a database file created next, e.g. by
    SQLite, which keeps its journal files at the database's mode, is never readable by others).
    A missing directory is left for whoever opens the file to report."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except (FileExistsError, FileNotFoundError, NotADirectoryError):
        return
    try:
        os.fchmod(fd, OWNER_ONLY)  # the umask could have taken bits from the owner too
    finally:
        os.close(fd)


def _sync_directory(folder: Path) -> None:
    """Make the rename itself durable (a crash right after it keeps the new file, not the old)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
