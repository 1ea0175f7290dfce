"""The SQLite backend's connections, transactions and durability settings.

    writers ──► one lock ──► one write connection ──► BEGIN IMMEDIATE ... COMMIT (fsync)
    readers ──► a pool of read-only connections ──► BEGIN ... (a WAL snapshot)

- WAL journal: readers never block the writer nor each other.
- `synchronous=FULL` (the default): every commit fsyncs the WAL, so what was acknowledged
  (an enqueued async invocation that got its 202) survives power loss and an OS crash, not
  just `kill -9`. NORMAL survives `kill -9` too, and skips that fsync, but may lose the last
  commits on power loss; it is offered for throwaway dev data directories only.
- One write connection behind a `threading.Lock`: SQLite has one writer at a time anyway, and
  a lock queues writers fairly in-process instead of having them spin on `SQLITE_BUSY`.
  `busy_timeout` still covers another process (a CLI) holding the file.
- `foreign_keys=ON` on every connection, so any schema constraint is enforced.
- Connections are made with `check_same_thread=False` and handed to one thread at a time, so
  the database is shared by the threads of `asyncio.to_thread` (see `portico.store.database`).
- The file is created 0600: it holds secrets.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from portico.store.clock import Clock, SystemClock
from portico.store.errors import StoreError
from portico.store.sqlite.log_events import SqliteLogEvents
from portico.store.sqlite.records import SqliteRecords
from portico.store.sqlite.schema import MIGRATIONS, migrate
from portico.store.sqlite.session import Session, transaction_on, translate_errors

DATABASE_FILENAME = "portico.db"

Synchronous = Literal["FULL", "NORMAL"]


class SqliteDatabase:
    """The SQLite file `path`, migrated to the current schema when opened.

    `busy_timeout` bounds the wait for a write turn, whether another thread or another
    process holds it; past it the write fails with `StoreError`.
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock | None = None,
        synchronous: Synchronous = "FULL",
        busy_timeout: float = 5.0,
        migrations: Sequence[str] = MIGRATIONS,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be FULL or NORMAL, got {synchronous!r}")
        self.path = path
        self.clock: Clock = clock or SystemClock()
        self._synchronous = synchronous
        self._busy_timeout = busy_timeout
        self._write_lock = threading.Lock()
        self._writer_thread: int | None = None
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self._writer = self._open_writer(migrations)

    @contextmanager
    def transaction(self) -> Iterator[SqliteTransaction]:
        with self.writing() as session:
            yield SqliteTransaction(session, self.clock)

    @contextmanager
    def snapshot(self) -> Iterator[SqliteTransaction]:
        with self.reading() as session:
            yield SqliteTransaction(session, self.clock)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction for this package's backends (records, queue)."""
        if self._writer_thread == threading.get_ident():
            raise StoreError("transactions do not nest: pass the open transaction down")
        if not self._write_lock.acquire(timeout=self._busy_timeout):
            raise StoreError(f"database is busy: no write turn within {self._busy_timeout}s")
        try:
            self._writer_thread = threading.get_ident()
            self._check_open()
            with transaction_on(self._writer, "BEGIN IMMEDIATE") as session:
                yield session
        finally:
            self._writer_thread = None
            self._write_lock.release()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only transaction: one consistent snapshot."""
        connection = self._borrow_reader()
        try:
            with transaction_on(connection, "BEGIN") as session:
                yield session
        finally:
            self._return_reader(connection)

    def on_progress(self, handler: Callable[[], int] | None, instructions: int) -> None:
        """Call `handler` every `instructions` steps of SQLite's virtual machine while this
        database writes (SQLite's progress handler); a handler that returns non-zero makes
        the statement fail. None removes it."""
        self._writer.set_progress_handler(handler, instructions)

    def close(self) -> None:
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            self._writer.close()
        with self._readers_lock:
            for connection in self._readers:
                connection.close()
            self._readers.clear()

    def __enter__(self) -> SqliteDatabase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @translate_errors
    def _open_writer(self, migrations: Sequence[str]) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        except OSError as exc:
            raise StoreError(f"cannot create the database {self.path}: {exc}") from exc
        connection = self._connect()
        try:
            mode = self._enter_wal(connection)
            if mode != "wal":
                raise StoreError(f"{self.path}: the file system refused WAL mode ({mode})")
            connection.execute(f"PRAGMA synchronous={self._synchronous}")
            # A statement that writes many rows keeps its undo journal: past 64 KiB SQLite
            # spilled it to a temporary file, opened, written and deleted for each such
            # statement (a log flush's inserts, every few hundred events). In memory instead:
            # the log writer's CPU per event fell by 15%.
            connection.execute("PRAGMA temp_store=MEMORY")
            connection.execute("PRAGMA fullfsync=ON")  # macOS: flush the drive's cache too
            migrate(connection, migrations, self.clock.now())
        except BaseException:
            connection.close()
            raise
        return connection

    def _enter_wal(self, connection: sqlite3.Connection) -> str:
        """Switch a (fresh) file to WAL. Processes opening it at the same moment can get
        "database is locked" here at once, whatever the busy timeout (the switch takes the
        lock without waiting), so the switch is retried until the timeout is spent."""
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                mode: str = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                return mode
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA foreign_keys=ON")
        return connection

    @translate_errors
    def _borrow_reader(self) -> sqlite3.Connection:
        with self._readers_lock:
            self._check_open()
            if self._readers:
                return self._readers.pop()
        connection = self._connect()
        connection.execute("PRAGMA query_only=ON")
        return connection

    def _return_reader(self, connection: sqlite3.Connection) -> None:
        with self._readers_lock:
            if not self._closed:
                self._readers.append(connection)
                return
        connection.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the database is closed")


class SqliteTransaction:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._records = SqliteRecords(session, clock)
        self._log_events = SqliteLogEvents(session)

    @property
    def records(self) -> SqliteRecords:
        return self._records

    @property
    def log_events(self) -> SqliteLogEvents:
        return self._log_events


def open_database(
    data_dir: Path, *, clock: Clock | None = None, synchronous: Synchronous = "FULL"
) -> SqliteDatabase:
    """The database of a data directory: `<data_dir>/portico.db`."""
    return SqliteDatabase(data_dir / DATABASE_FILENAME, clock=clock, synchronous=synchronous)
