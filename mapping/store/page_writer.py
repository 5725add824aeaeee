"""Applying sync pages in a second process, so the store's work overlaps Exchange's on two cores.

Translating a page and applying it to the store are both CPU-bound Python; in one process they take
turns with exchangelib's XML parsing under the GIL. :class:`PageWriter` hands pages to a child process
that owns its own :class:`~mapping.store.store.Store` on the same database and applies them there, in
the order given, each page **with its new sync state in one transaction** (``Store.apply_page``, the
same code as in-process). Nothing about what is written changes; only where it runs.

Guarantees the sync engine relies on:

- pages are applied one at a time, in submission order, by one connection;
- after a page fails, the pages submitted behind it are not applied (their states would skip it);
  the error comes back from :meth:`PageWriter.drain` (or is raised by the next
  :meth:`~PageWriter.submit`), as the same exception type when it can cross the process boundary;
- at most ``max_in_flight`` pages wait or run in the child, so memory stays bounded;
- the child dies with its parent (Linux ``PR_SET_PDEATHSIG``, and it also exits when the pipe to the
  parent closes), so a killed sync never leaves a writer that commits behind a resumed run's back.

The child is a fresh interpreter started with :mod:`subprocess` (``python -c``), talking over two
pipes, not a ``multiprocessing`` spawn: a spawned child first re-imports the parent's ``__main__``
(the ``relsync`` CLI with everything it imports, or the benchmark with exchangelib), about a CPU
second for a process that needs only the store. Started this way it is ready in about half the time
and CPU, and that second stays free for fetching and translating pages on a two-core machine.

An in-memory SQLite database cannot be shared between processes: :func:`shareable` says whether a
URL can be written from a child.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

import sqlalchemy as sa

from mapping.changes import Page, PageResult, SyncRules

_PR_SET_PDEATHSIG = 1
_BARRIER = "barrier"

#: The child's first lines: read the parent's import path and the store's URL (which may hold a
#: password: never on the command line), then serve (which first ties the child's life to the parent's).
_BOOT = """
import sys
from multiprocessing.connection import Connection
tasks = Connection(int(sys.argv[1]), writable=False)
results = Connection(int(sys.argv[2]), readable=False)
parent_pid = int(sys.argv[3])
path, url = tasks.recv()
sys.path[:] = path
from mapping.store.page_writer import _serve
_serve(url, tasks, results, parent_pid)
# Every page is committed and the store disposed: skip the interpreter's teardown (tens of
# milliseconds the parent's close would wait for); the exit closes the pipe the parent watches.
sys.stdout.flush()
sys.stderr.flush()
import os
os._exit(0)
"""


def shareable(url: str) -> bool:
    """Whether a second process can open the same database (not an in-memory SQLite one)."""
    u = sa.make_url(url)
    return u.get_backend_name() != "sqlite" or u.database not in (None, "", ":memory:")


class WriterFailed(sa.exc.SQLAlchemyError):
    """The writer process failed in a way that could not be sent back as its own exception type."""


def _die_with_parent(parent_pid: int) -> None:
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        # The signal comes when the *thread* that started us ends: EwsMailboxSync starts and closes the
        # writer within one sync call, on one thread. Not Linux (no prctl): the child still notices
        # it was orphaned within a second (see _serve).
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(libc_name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the prctl took effect
        os._exit(1)


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a :class:`WriterFailed` that names it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        kind = WriterFailed if isinstance(exc, sa.exc.SQLAlchemyError) else RuntimeError
        return kind(f"{type(exc).__name__}: {exc}"[:2000])
    return exc


def _serve(url: str, tasks: Connection, conn: Connection, parent_pid: int) -> None:
    """Child body: apply each page received; after a failure skip pages until the next barrier."""
    _die_with_parent(parent_pid)
    from mapping.store.store import Store  # imported here: the parent need not load it for us

    store = Store(url)
    # The child's imports live as long as it does: keep them out of the collector's full walks, which
    # the pages' objects trigger again and again (see mapping.heap).
    gc.freeze()
    failed = False
    try:
        while True:
            if not tasks.poll(1.0):
                if os.getppid() != parent_pid:
                    return  # orphaned (no PR_SET_PDEATHSIG here): never write behind a new run
                continue
            try:
                message = pickle.loads(tasks.recv_bytes())
            except EOFError:
                return  # the parent closed its end (or died): nothing more will come
            if message is None:
                return
            if message == _BARRIER:
                failed = False
                conn.send(("barrier", None))
                continue
            page, rules = message
            if failed:
                conn.send(("skipped", None))
                continue
            try:
                conn.send(("ok", store.apply_page(page, rules)))
            except Exception as exc:
                failed = True
                conn.send(("error", _portable(exc)))
    finally:
        store.dispose()


class PageWriter:
    """A child process applying :class:`~mapping.changes.Page` objects to the store at ``url``.

    Usage (one thread)::

        writer = PageWriter(store.url)
        for page in pages:
            for result in writer.submit(page, rules):   # results of pages finished meanwhile
                ...
        results, error = writer.drain()                 # waits; error: the first failure or None
        writer.close()
    """

    def __init__(self, url: str, max_in_flight: int = 2) -> None:
        if not shareable(url):
            raise ValueError("an in-memory SQLite store cannot be written from another process")
        # Two one-way pipes: pages down, outcomes up (whose end-of-file also tells us when the child
        # died). A clean interpreter: no inherited threads, sockets or locks (see the module docstring).
        task_read, task_write = os.pipe()
        result_read, result_write = os.pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _BOOT, str(task_read), str(result_write), str(os.getpid())],
                pass_fds=(task_read, result_write),
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            for fd in (task_read, task_write, result_read, result_write):
                os.close(fd)
            raise
        os.close(task_read)
        os.close(result_write)
        self._tasks = Connection(task_write, readable=False)
        self._conn = Connection(result_read, writable=False)
        # Pages are written by a feeder thread, so submitting never waits for the child (it may still
        # be starting, or applying the page before): a page is far bigger than a pipe's buffer.
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._feeder = threading.Thread(target=self._feed, name="relsync-page-writer-feed", daemon=True)
        self._feeder.start()
        self._send([list(sys.path), url])
        self._max_in_flight = max(1, max_in_flight)
        self._in_flight = 0
        self._error: BaseException | None = None
        self._done: deque[PageResult] = deque()

    @property
    def pid(self) -> int:
        """The writer process's id (for monitoring)."""
        return self._process.pid

    @property
    def in_flight(self) -> int:
        """Pages submitted whose outcome has not been received yet."""
        return self._in_flight

    def submit(self, page: Page, rules: SyncRules) -> list[PageResult]:
        """Queue a page (waiting while ``max_in_flight`` are pending); return results received meanwhile.

        Raises the failure of an earlier page instead of queueing behind it.
        """
        self._raise_failure()
        while self._in_flight >= self._max_in_flight:
            self._receive()
            self._raise_failure()
        self._send((page, rules))
        self._in_flight += 1
        while self._in_flight and self._conn.poll():
            self._receive()
        return self._take()

    def drain(self) -> tuple[list[PageResult], BaseException | None]:
        """Wait until every submitted page is applied (or skipped after a failure).

        Returns the results not returned yet and the first failure (``None``: every page committed).
        Afterwards the child writes nothing until the next :meth:`submit`, which starts afresh.
        """
        while self._in_flight:
            self._receive()
        self._send(_BARRIER)
        self._expect("barrier")
        error, self._error = self._error, None
        return self._take(), error

    def close(self) -> None:
        """Stop the child (after what it is doing) and wait for it; safe to call twice.

        The child's exit closes the results pipe: waiting for that end of file (``select``) returns
        the moment it is gone, where ``Popen.wait(timeout)`` polls with sleeps of up to 50 ms.
        """
        if self._process.poll() is None:
            self._send(None)
            if self._ended(30):
                self._process.wait()  # it has exited: reap it (no polling)
            else:
                self._process.kill()
                self._process.wait(5)
        self._outbox.put(None)  # the feeder ends (at once when the child is gone: its pipe is broken)
        self._feeder.join(5)
        if not self._feeder.is_alive():
            self._tasks.close()
        self._conn.close()

    def _ended(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the child's end of the results pipe (its exit)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                if self._conn.poll(left):
                    self._conn.recv_bytes()  # a late outcome of a page never drained: dropped
            except (EOFError, OSError):
                return True
        return False

    def _send(self, message: Any) -> None:
        # Pickled here, so a page that cannot be sent fails its submit, not the feeder thread.
        self._outbox.put(None if message is None else pickle.dumps(message, pickle.HIGHEST_PROTOCOL))

    def _feed(self) -> None:
        """Feeder thread: write queued messages to the child, in order, until ``None``."""
        while True:
            data = self._outbox.get()
            try:
                self._tasks.send_bytes(pickle.dumps(None) if data is None else data)
            except (OSError, ValueError):  # the child is gone (or the pipe closed): _recv reports it
                return
            if data is None:
                return

    def _take(self) -> list[PageResult]:
        results = list(self._done)
        self._done.clear()
        return results

    def _raise_failure(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _receive(self) -> None:
        kind, value = self._recv()
        if kind == "barrier":
            raise RuntimeError("page writer out of step: unexpected barrier")
        self._in_flight -= 1
        if kind == "ok":
            assert isinstance(value, PageResult)
            self._done.append(value)
        elif kind == "error" and self._error is None:
            assert isinstance(value, BaseException)
            self._error = value

    def _expect(self, wanted: str) -> None:
        kind, _ = self._recv()
        if kind != wanted:
            raise RuntimeError(f"page writer out of step: {kind!r} instead of {wanted!r}")

    def _recv(self) -> tuple[str, Any]:
        try:
            message: tuple[str, Any] = self._conn.recv()
        except (EOFError, OSError) as exc:
            code = self._process.poll()
            raise WriterFailed(f"the page writer process ended unexpectedly (exit code {code})") from exc
        return message
