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

A writer process outlives its :class:`PageWriter`: :meth:`PageWriter.close` after a clean drain hands
it back, and the next :class:`PageWriter` *of the same thread* takes it (for any store URL) instead of
starting an interpreter again, so a worker syncing mailbox after mailbox pays the start once, not per
backlog. A process kept this way holds no database connection while it waits, and exits by itself after
:data:`IDLE_SECONDS` without work; :func:`close_idle_writers` ends the waiting ones now (at exit too).
Only the starting thread reuses its process, because the kernel's parent-death signal follows that
thread (see :func:`_die_with_parent`).

An in-memory SQLite database cannot be shared between processes: :func:`shareable` says whether a
URL can be written from a child.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import gc
import os
import pickle
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

import sqlalchemy as sa

from mapping.changes import Page, PageResult, SyncRules
from mapping.store.engine import SQLITE_BUSY_TIMEOUT_MS, sqlite_file

_PR_SET_PDEATHSIG = 1
_BARRIER = "barrier"

#: Seconds a writer process handed back by :meth:`PageWriter.close` waits for its thread's next
#: :class:`PageWriter` before it exits: long enough for a worker's next mailbox or folder, short
#: enough that an idle service does not keep a second interpreter (60-110 MB, as its last backlog left
#: it) around for long.
IDLE_SECONDS = 60.0

#: The child's first lines: read the parent's import path, import the store, then serve (which first
#: ties the child's life to the parent's). The store's URL (which may hold a password: never on the
#: command line) comes down the pipe with each claim.
_BOOT = """
import sys
from multiprocessing.connection import Connection
tasks = Connection(int(sys.argv[1]), writable=False)
results = Connection(int(sys.argv[2]), readable=False)
parent_pid = int(sys.argv[3])
sys.path[:] = tasks.recv()
from mapping.store.page_writer import _serve
_serve(tasks, results, parent_pid)
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
        # The signal comes when the *thread* that started us ends: so only that thread reuses us (see
        # _take_idle), and a sync never hands its pages to a process another thread's end would kill.
        # Not Linux (no prctl): the child still notices it was orphaned within a second (_next_message).
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


class _Checkpointer:
    """Runs a SQLite store's WAL checkpoints on a thread of their own while the writer applies pages.

    SQLite checkpoints from the commit that fills the WAL past its limit (1,000 pages): with
    ``synchronous = NORMAL`` that commit waits for the checkpoint's fsyncs, a tenth of a Graph inbox's
    apply in wall time (benchmarks/store_apply.py: wall minus CPU). Here the writer's own connections
    never checkpoint (``wal_autocheckpoint = 0``) and a second connection runs a PASSIVE checkpoint
    (it never blocks the writer) after commits, at most every ``interval`` seconds, while the next page
    is applied. Any other connection to the store still checkpoints as SQLite does by default.
    """

    def __init__(self, path: str, engine: sa.Engine, interval: float = 0.1) -> None:
        if not sa.event.contains(engine, "connect", _no_autocheckpoint):
            sa.event.listen(engine, "connect", _no_autocheckpoint)
            engine.dispose()  # a connection opened before the listener keeps the default
        self._path, self._interval = path, interval
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, name="relsync-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        self._wake.set()

    def close(self) -> None:
        """Checkpoint what was committed since the last checkpoint, then end the thread."""
        self._stop.set()
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        # mode=rw: never create the file (the store's own connections made it).
        uri = f"file:{urllib.parse.quote(self._path)}?mode=rw"
        try:
            db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error:
            return  # the store's connections still checkpoint when the last of them closes
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                with contextlib.suppress(sqlite3.Error):  # missed: the next one, or SQLite's own at close, does it
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                if self._stop.is_set():  # that was the last, after the last page's commit
                    return
                self._stop.wait(self._interval)
        finally:
            db.close()


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint = 0")


def _next_message(tasks: Connection, parent_pid: int, idle: float | None) -> Any:
    """The next message from the parent; ``None`` to stop: asked to, the pipe closed, orphaned, or
    ``idle`` seconds passed without one (``idle`` is None while claimed: wait as long as it takes)."""
    waited = 0.0
    while not tasks.poll(1.0):
        if os.getppid() != parent_pid:
            return None  # orphaned (no PR_SET_PDEATHSIG here): never write behind a new run
        waited += 1.0
        if idle is not None and waited >= idle:
            return None
    try:
        return pickle.loads(tasks.recv_bytes())
    except EOFError:
        return None  # the parent closed its end (or died): nothing more will come


def _serve(tasks: Connection, conn: Connection, parent_pid: int) -> None:
    """Child body: serve claims; while claimed, apply each page received, and after a failure skip
    pages until the next barrier; once released, close the store's connections and wait for a claim."""
    _die_with_parent(parent_pid)
    from mapping.store.store import Store  # imported here: the parent need not load it for us

    # The child's imports live as long as it does: keep them out of the collector's full walks, which
    # the pages' objects trigger again and again (see mapping.heap).
    gc.freeze()
    store: Store | None = None
    checkpoints: _Checkpointer | None = None
    idle: float | None = None  # None: claimed
    keep = IDLE_SECONDS
    failed = False
    try:
        while (message := _next_message(tasks, parent_pid, idle)) is not None:
            kind = message[0]
            if kind == "claim":
                _, url, keep = message
                if store is None or store.url != url:
                    if store is not None:
                        store.dispose()
                    store = Store(url)
                if (path := sqlite_file(url)) is not None:
                    checkpoints = _Checkpointer(str(path), store.engine)
                idle, failed = None, False
                conn.send(("claimed", None))
            elif kind == "release":
                if checkpoints is not None:
                    checkpoints.close()
                    checkpoints = None
                if store is not None:
                    store.engine.dispose()  # no connection held while waiting (the engine stays usable)
                idle = keep
                conn.send(("released", None))
            elif kind == _BARRIER:
                failed = False
                conn.send((_BARRIER, None))
            elif failed or store is None:
                conn.send(("skipped", None))
            else:
                _, page, rules = message
                try:
                    result = store.apply_page(page, rules)
                    if checkpoints is not None:
                        checkpoints.committed()
                    conn.send(("ok", result))
                except Exception as exc:
                    failed = True
                    conn.send(("error", _portable(exc)))
    finally:
        if checkpoints is not None:
            checkpoints.close()
        if store is not None:
            store.dispose()


class _Process:
    """One writer process and the two pipes to it; it may serve several :class:`PageWriter` in turn."""

    def __init__(self) -> None:
        # Two one-way pipes: messages down, outcomes up (whose end-of-file also tells us when the child
        # died). A clean interpreter: no inherited threads, sockets or locks (see the module docstring).
        task_read, task_write = os.pipe()
        result_read, result_write = os.pipe()
        try:
            self.process = subprocess.Popen(
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
        self.thread = threading.current_thread()
        self.tasks = Connection(task_write, readable=False)
        self.results = Connection(result_read, writable=False)
        # Messages are written by a feeder thread, so sending never waits for the child (it may still
        # be starting, or applying the page before): a page is far bigger than a pipe's buffer.
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._feeder = threading.Thread(target=self._feed, name="relsync-page-writer-feed", daemon=True)
        self._feeder.start()
        self.send(list(sys.path))

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, message: Any) -> None:
        # Pickled here, so a page that cannot be sent fails its submit, not the feeder thread.
        self._outbox.put(None if message is None else pickle.dumps(message, pickle.HIGHEST_PROTOCOL))

    def recv(self) -> tuple[str, Any]:
        try:
            message: tuple[str, Any] = self.results.recv()
        except (EOFError, OSError) as exc:
            code = self.process.poll()
            raise WriterFailed(f"the page writer process ended unexpectedly (exit code {code})") from exc
        return message

    def stop(self) -> None:
        """Stop the child (after what it is doing) and wait for it; safe to call twice.

        The child's exit closes the results pipe: waiting for that end of file (``select``) returns
        the moment it is gone, where ``Popen.wait(timeout)`` polls with sleeps of up to 50 ms.
        """
        if self.process.poll() is None:
            self.send(None)
            if self._ended(30):
                self.process.wait()  # it has exited: reap it (no polling)
            else:
                self.process.kill()
                self.process.wait(5)
        self._outbox.put(None)  # the feeder ends (at once when the child is gone: its pipe is broken)
        self._feeder.join(5)
        if not self._feeder.is_alive():
            self.tasks.close()
        self.results.close()

    def _ended(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the child's end of the results pipe (its exit)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                if self.results.poll(left):
                    self.results.recv_bytes()  # a late outcome of a page never drained: dropped
            except (EOFError, OSError):
                return True
        return False

    def _feed(self) -> None:
        """Feeder thread: write queued messages to the child, in order, until ``None``."""
        while True:
            data = self._outbox.get()
            try:
                self.tasks.send_bytes(pickle.dumps(None) if data is None else data)
            except (OSError, ValueError):  # the child is gone (or the pipe closed): recv reports it
                return
            if data is None:
                return


#: Writer processes handed back and waiting for their thread's next PageWriter (at most one a thread).
_idle: dict[threading.Thread, _Process] = {}
_idle_lock = threading.Lock()


def _take_idle() -> _Process | None:
    """This thread's waiting process, if any (the waiting processes of ended threads are stopped)."""
    me = threading.current_thread()
    with _idle_lock:
        mine = _idle.pop(me, None)
        gone = [_idle.pop(t) for t in list(_idle) if not t.is_alive()]
    for process in gone:
        process.stop()
    return mine


def _keep_idle(process: _Process) -> None:
    with _idle_lock:
        before = _idle.pop(process.thread, None)
        _idle[process.thread] = process
    if before is not None:
        before.stop()


def close_idle_writers() -> None:
    """Stop every writer process waiting for reuse (they also exit by themselves after IDLE_SECONDS)."""
    with _idle_lock:
        waiting = list(_idle.values())
        _idle.clear()
    for process in waiting:
        process.stop()


atexit.register(close_idle_writers)


class PageWriter:
    """A child process applying :class:`~mapping.changes.Page` objects to the store at ``url``.

    Usage (one thread)::

        writer = PageWriter(store.url)
        for page in pages:
            for result in writer.submit(page, rules):   # results of pages finished meanwhile
                ...
        results, error = writer.drain()                 # waits; error: the first failure or None
        writer.close()                                  # the process waits for this thread's next writer
    """

    def __init__(self, url: str, max_in_flight: int = 2, idle_seconds: float = IDLE_SECONDS) -> None:
        if not shareable(url):
            raise ValueError("an in-memory SQLite store cannot be written from another process")
        self._max_in_flight = max(1, max_in_flight)
        self._in_flight = 0
        self._error: BaseException | None = None
        self._failed = False  # a page failed or the process broke: it is not handed back for reuse
        self._done: deque[PageResult] = deque()
        self._closed = False
        claim = ("claim", url, idle_seconds)
        idle = _take_idle()
        if idle is not None:
            # A waiting process may have just timed out: its answer (or its end) says which.
            idle.send(claim)
            try:
                if idle.recv()[0] == "claimed":
                    self._child = idle
                    self._claimed = True
                    return
            except WriterFailed:
                pass
            idle.stop()
        self._child = _Process()
        self._child.send(claim)
        self._claimed = False  # its answer comes once it has started: read before the first outcome

    @property
    def pid(self) -> int:
        """The writer process's id (for monitoring)."""
        return self._child.process.pid

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
        self._child.send(("page", page, rules))
        self._in_flight += 1
        while self._in_flight and self._child.results.poll():
            self._receive()
        return self._take()

    def drain(self) -> tuple[list[PageResult], BaseException | None]:
        """Wait until every submitted page is applied (or skipped after a failure).

        Returns the results not returned yet and the first failure (``None``: every page committed).
        Afterwards the child writes nothing until the next :meth:`submit`, which starts afresh.
        """
        while self._in_flight:
            self._receive()
        self._child.send((_BARRIER,))
        self._expect(_BARRIER)
        error, self._error = self._error, None
        return self._take(), error

    def close(self) -> None:
        """Hand the process back for this thread's next writer when every page was drained without a
        failure, else stop it (after what it is doing) and wait for it; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        child = self._child
        if not self._failed and not self._in_flight and child.alive():
            child.send(("release",))
            try:
                self._expect("released")
            except (WriterFailed, RuntimeError):
                pass
            else:
                _keep_idle(child)
                return
        child.stop()

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
        if kind == _BARRIER:
            self._failed = True
            raise RuntimeError("page writer out of step: unexpected barrier")
        self._in_flight -= 1
        if kind == "ok":
            assert isinstance(value, PageResult)
            self._done.append(value)
        elif kind == "error":
            self._failed = True
            if self._error is None:
                assert isinstance(value, BaseException)
                self._error = value

    def _expect(self, wanted: str) -> None:
        kind, _ = self._recv()
        if kind != wanted:
            self._failed = True
            raise RuntimeError(f"page writer out of step: {kind!r} instead of {wanted!r}")

    def _recv(self) -> tuple[str, Any]:
        try:
            message = self._child.recv()
            if not self._claimed:  # a new process's answer to its claim comes before any outcome
                self._claimed = True
                if message[0] != "claimed":
                    raise RuntimeError(f"page writer out of step: {message[0]!r} instead of 'claimed'")
                message = self._child.recv()
        except BaseException:
            self._failed = True
            raise
        return message
