"""The backends under test. Each opens handles (a `Database` and a `DurableQueue`) onto one
underlying store; opening again gives fresh handles onto the same data, as a restarted server
would get. A PostgreSQL backend joins by adding an entry to `BACKENDS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from portico.store import Clock, Database, DurableQueue
from portico.store.sqlite import SqliteDatabase, SqliteQueue, open_database


@dataclass
class Handles:
    database: Database
    queue: DurableQueue


@dataclass
class Backend:
    name: str
    _open: Callable[[Clock], tuple[Database, DurableQueue]]
    _opened: list[Database] = field(default_factory=list)

    def open(self, clock: Clock) -> Handles:
        database, queue = self._open(clock)
        self._opened.append(database)
        return Handles(database, queue)

    def close_all(self) -> None:
        for database in self._opened:
            database.close()


def _sqlite(tmp_path: Path) -> Backend:
    def open_sqlite(clock: Clock) -> tuple[Database, DurableQueue]:
        database: SqliteDatabase = open_database(tmp_path / "data", clock=clock)
        return database, SqliteQueue(database)

    return Backend("sqlite", open_sqlite)


BACKENDS: dict[str, Callable[[Path], Backend]] = {"sqlite": _sqlite}
