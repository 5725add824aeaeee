"""One daemon per SQLite store: an exclusive lock file beside the database (see :mod:`scheduler.daemon`)."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

from mapping.errors import EXIT_USAGE, RelsyncError


class DaemonRefused(RelsyncError):
    """The daemon cannot start (another daemon on the SQLite store, store not upgraded): one sentence."""

    exit_code = EXIT_USAGE
    topic = "daemon"


class SqliteDaemonLock:
    """An exclusive lock file beside a SQLite store: one daemon per SQLite file.

    ``flock`` is released by the kernel when the process dies, so a killed daemon never blocks the
    next one; the file holds the worker id only so the refusal can say who runs.
    """

    def __init__(self, database: Path, worker: str) -> None:
        self.path = database.with_name(database.name + ".daemon.lock")
        self.worker = worker
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            other = handle.read().strip() or "unknown"
            handle.close()
            store = self.path.with_name(self.path.name.removesuffix(".daemon.lock"))
            raise DaemonRefused(
                f"another relsync daemon (worker {other}) already runs on the SQLite store {store}. "
                "SQLite is for one daemon only. Fix: stop the other daemon, or move the store to PostgreSQL "
                '(store.url = "postgresql+psycopg://...") to run several workers'
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(self.worker + "\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
