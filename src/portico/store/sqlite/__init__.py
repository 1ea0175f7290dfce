"""The SQLite backend: one file, `<data_dir>/portico.db`, for a single node."""

import portico.store as _protocols
from portico.store.sqlite.database import (
    DATABASE_FILENAME,
    SqliteDatabase,
    SqliteTransaction,
    Synchronous,
    open_database,
)
from portico.store.sqlite.queue import SqliteQueue
from portico.store.sqlite.schema import MIGRATIONS

__all__ = [
    "DATABASE_FILENAME",
    "MIGRATIONS",
    "SqliteDatabase",
    "SqliteQueue",
    "SqliteTransaction",
    "Synchronous",
    "open_database",
]


def _conforms(
    database: SqliteDatabase, queue: SqliteQueue
) -> tuple[_protocols.Database, _protocols.DurableQueue]:
    """Never called: mypy checks here that the backend implements the protocols."""
    return database, queue
