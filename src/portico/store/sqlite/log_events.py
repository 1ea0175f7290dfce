"""`LogEventStore` on the `log_events` table."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable

from portico.store.log_events import LogCursor, LogEventLike, StoredLogEvent
from portico.store.sqlite.session import Session, translate_errors


class SqliteLogEvents:
    def __init__(self, session: Session) -> None:
        self._session = session

    @translate_errors
    def append(
        self, group: str, stream: str, events: Iterable[LogEventLike], *, ingestion_time: int
    ) -> int:
        rows = [(group, stream, event.timestamp, ingestion_time, event.message) for event in events]
        self._db.executemany(
            "INSERT INTO log_events (log_group, log_stream, timestamp, ingestion_time, message)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )
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
