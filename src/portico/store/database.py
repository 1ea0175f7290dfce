"""The database seen by the services: transactions over records and log events.

    with db.transaction() as tx:                # read-write, serialisable, all or nothing
        fn = tx.records.get(scope, "lambda.function", name)
        tx.records.put(scope, "lambda.function", name, {...}, expected_version=fn.version)

    with db.snapshot() as tx:                   # read-only, one consistent view
        page = tx.records.list(scope, "lambda.function", after=marker, limit=50)

A transaction commits when its block ends and rolls back when the block raises (the
exception goes on unchanged). Backend failures surface as `StoreError`, never as a driver's
own exception.

Calls block: they run in the calling thread and may wait for the disk (a durable commit is an
fsync) or for another writer. Code on an event loop calls service operations through
`asyncio.to_thread`; every implementation is safe to use from many threads at once. Keep
transaction blocks short and free of I/O other than the store: writers queue behind them.
Transactions do not nest: pass `tx` down instead of opening another.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from portico.store.log_events import LogEventStore
from portico.store.records import RecordStore


class Transaction(Protocol):
    @property
    def records(self) -> RecordStore: ...

    @property
    def log_events(self) -> LogEventStore: ...


class Database(Protocol):
    def transaction(self) -> AbstractContextManager[Transaction]:
        """A read-write transaction; writers take turns."""
        ...

    def snapshot(self) -> AbstractContextManager[Transaction]:
        """A read-only transaction; runs alongside writers and other readers."""
        ...

    def close(self) -> None: ...
