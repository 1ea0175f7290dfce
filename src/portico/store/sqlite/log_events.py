"""`LogEventStore` on the `log_events` table."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable

from portico.store.log_events import LogCursor, LogEventLike, StoredLogEvent
from portico.store.sqlite.session import Session, translate_errors

_INSERT = "INSERT INTO log_events (group_id, stream_id, timestamp, ingestion_time, message) VALUES "
_ROW = "(?, ?, ?, ?, ?)"
# Rows go in by the hundred per statement: SQLite's cost is mostly per statement (and
# AUTOINCREMENT updates its counter once each), not per row. A few fixed sizes keep the
# statements few enough to stay prepared.
_CHUNKS = (512, 64, 8)
_INSERT_CHUNK = {size: _INSERT + ", ".join([_ROW] * size) for size in _CHUNKS}
_INSERT_ONE = _INSERT + _ROW

Row = tuple[int, int, int, int, str]  # group id, stream id, timestamp, ingestion time, message


class SqliteLogEvents:
    """Groups and streams are numbered once (log_group_ids, log_stream_ids); events name them
    by number. The numbers outlive the events, so they never change meaning."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @translate_errors
    def append(
        self, group: str, stream: str, events: Iterable[LogEventLike], *, ingestion_time: int
    ) -> int:
        return self.append_streams([(group, stream, events)], ingestion_time=ingestion_time)

    @translate_errors
    def append_streams(
        self,
        batches: Iterable[tuple[str, str, Iterable[LogEventLike]]],
        *,
        ingestion_time: int,
    ) -> int:
        rows: list[Row] = []
        for group, stream, events in batches:
            group_id, stream_id = self._numbered(group, stream)
            rows += [
                (group_id, stream_id, event.timestamp, ingestion_time, event.message)
                for event in events
            ]
        return self._insert(rows)

    def _numbered(self, group: str, stream: str) -> tuple[int, int]:
        db = self._db
        db.execute("INSERT OR IGNORE INTO log_group_ids (name) VALUES (?)", (group,))
        (group_id,) = db.execute("SELECT id FROM log_group_ids WHERE name = ?", (group,)).fetchone()
        db.execute(
            "INSERT OR IGNORE INTO log_stream_ids (group_id, name) VALUES (?, ?)",
            (group_id, stream),
        )
        sql = "SELECT id FROM log_stream_ids WHERE group_id = ? AND name = ?"
        (stream_id,) = db.execute(sql, (group_id, stream)).fetchone()
        return int(group_id), int(stream_id)

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
        group_id = self._group_id(group)
        if group_id is None:
            return []
        clauses = ["e.group_id = ?"]
        params: list[object] = [group_id]
        if streams is not None:
            stream_ids = self._stream_ids(group_id, streams)
            if not stream_ids:
                return []
            clauses.append(f"e.stream_id IN ({', '.join('?' * len(stream_ids))})")
            params.extend(stream_ids)
        if start is not None:
            clauses.append("e.timestamp >= ?")
            params.append(start)
        if end is not None:
            clauses.append("e.timestamp < ?")
            params.append(end)
        if after is not None:
            clauses.append(f"(e.timestamp, e.position) {'<' if descending else '>'} (?, ?)")
            params.extend((after.timestamp, after.position))
        order = "DESC" if descending else "ASC"
        params.append(limit)
        sql = (
            "SELECT e.position, s.name, e.timestamp, e.ingestion_time, e.message"  # noqa: S608
            " FROM log_events e JOIN log_stream_ids s ON s.id = e.stream_id"
            f" WHERE {' AND '.join(clauses)}"
            f" ORDER BY e.timestamp {order}, e.position {order} LIMIT ?"
        )
        return [StoredLogEvent(*row) for row in self._db.execute(sql, params)]

    @translate_errors
    def delete(self, group: str, *, stream: str | None = None) -> int:
        group_id = self._group_id(group)
        if group_id is None:
            return 0
        if stream is None:
            sql = "DELETE FROM log_events WHERE group_id = ?"
            return self._db.execute(sql, (group_id,)).rowcount
        stream_ids = self._stream_ids(group_id, [stream])
        if not stream_ids:
            return 0
        sql = "DELETE FROM log_events WHERE group_id = ? AND stream_id = ?"
        return self._db.execute(sql, (group_id, stream_ids[0])).rowcount

    @translate_errors
    def delete_before(self, group: str, timestamp: int) -> int:
        group_id = self._group_id(group)
        if group_id is None:
            return 0
        sql = "DELETE FROM log_events WHERE group_id = ? AND timestamp < ?"
        return self._db.execute(sql, (group_id, timestamp)).rowcount

    def _group_id(self, group: str) -> int | None:
        found = self._db.execute("SELECT id FROM log_group_ids WHERE name = ?", (group,)).fetchone()
        return None if found is None else int(found[0])

    def _stream_ids(self, group_id: int, streams: Collection[str]) -> list[int]:
        names = list(dict.fromkeys(streams))
        sql = (
            "SELECT id FROM log_stream_ids"  # noqa: S608 - placeholders only
            f" WHERE group_id = ? AND name IN ({', '.join('?' * len(names))})"
        )
        return [int(row[0]) for row in self._db.execute(sql, [group_id, *names])]

    @property
    def _db(self) -> sqlite3.Connection:
        return self._session.connection
