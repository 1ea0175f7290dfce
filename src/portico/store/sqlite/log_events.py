"""`LogEventStore` on the `log_events` table."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable

from portico.store.log_events import LogCursor, LogEventLike, StoredLogEvent
from portico.store.sqlite.session import Session, translate_errors

_INSERT = (
    "INSERT INTO log_events (log_group, log_stream, timestamp, ingestion_time, message) VALUES "
)
_ROW = "(?, ?, ?, ?, ?)"
# Rows go in by the hundred per statement: SQLite's cost is mostly per statement (and
# AUTOINCREMENT updates its counter once each), not per row. A few fixed sizes keep the
# statements few enough to stay prepared.
_CHUNKS = (512, 64, 8)
_INSERT_CHUNK = {size: _INSERT + ", ".join([_ROW] * size) for size in _CHUNKS}
_INSERT_ONE = _INSERT + _ROW

Row = tuple[str, str, int, int, str]


class SqliteLogEvents:
    def __init__(self, session: Session) -> None:
        self._session = session

    @translate_errors
    def append(
        self, group: str, stream: str, events: Iterable[LogEventLike], *, ingestion_time: int
    ) -> int:
        rows = [(group, stream, event.timestamp, ingestion_time, event.message) for event in events]
        return self._insert(rows)

    @translate_errors
    def append_streams(
        self,
        batches: Iterable[tuple[str, str, Iterable[LogEventLike]]],
        *,
        ingestion_time: int,
    ) -> int:
        rows = [
            (group, stream, event.timestamp, ingestion_time, event.message)
            for group, stream, events in batches
            for event in events
        ]
        return self._insert(rows)

    def _insert(self, rows: list[Row]) -> int:
        db = self._db
        start = 0
        for size in _CHUNKS:
            sql = _INSERT_CHUNK[size]
            while len(rows) - start >= size:
                end = start + size
                db.execute(sql, [value for row in rows[start:end] for value in row])
                start = end
        if start < len(rows):
            db.executemany(_INSERT_ONE, rows[start:])
        return len(rows)

    @translate_errors
    def query(
        self,
        group: str,
        *,
        streams: Collection[str] | None = None,
        start: int | None = None,
        end: int | None = None,
        after: LogCursor | None = None,
        limit: int = 10_000,
        descending: bool = False,
    ) -> list[StoredLogEvent]:
        clauses = ["log_group = ?"]
        params: list[object] = [group]
        if streams is not None:
            if not streams:
                return []
            clauses.append(f"log_stream IN ({', '.join('?' * len(streams))})")
            params.extend(streams)
        if start is not None:
            clauses.append("timestamp >= ?")
            params.append(start)
        if end is not None:
            clauses.append("timestamp < ?")
            params.append(end)
        if after is not None:
            clauses.append(f"(timestamp, position) {'<' if descending else '>'} (?, ?)")
            params.extend((after.timestamp, after.position))
        order = "DESC" if descending else "ASC"
        params.append(limit)
        sql = (
            "SELECT position, log_stream, timestamp, ingestion_time, message"  # noqa: S608
            f" FROM log_events WHERE {' AND '.join(clauses)}"
            f" ORDER BY timestamp {order}, position {order} LIMIT ?"
        )
        return [StoredLogEvent(*row) for row in self._db.execute(sql, params)]

    @translate_errors
    def delete(self, group: str, *, stream: str | None = None) -> int:
        if stream is None:
            return self._db.execute("DELETE FROM log_events WHERE log_group = ?", (group,)).rowcount
        sql = "DELETE FROM log_events WHERE log_group = ? AND log_stream = ?"
        return self._db.execute(sql, (group, stream)).rowcount

    @translate_errors
    def delete_before(self, group: str, timestamp: int) -> int:
        sql = "DELETE FROM log_events WHERE log_group = ? AND timestamp < ?"
        return self._db.execute(sql, (group, timestamp)).rowcount

    @property
    def _db(self) -> sqlite3.Connection:
        return self._session.connection
