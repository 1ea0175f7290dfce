"""The SQLite schema, as migrations applied in order and recorded in `schema_version`.

Migration N is `MIGRATIONS[N - 1]`. Never edit one that has shipped: append another. All
pending migrations apply in one transaction, taken with the write lock, so a crash leaves the
previous version intact and two processes opening the same file apply each only once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from portico.store.errors import StoreError

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE records (
        scope TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,            -- a JSON object
        version INTEGER NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (scope, kind, name)
    ) WITHOUT ROWID;

    CREATE TABLE log_events (
        position INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: page cursors stay valid
        log_group TEXT NOT NULL,
        log_stream TEXT NOT NULL,
        timestamp INTEGER NOT NULL,     -- milliseconds since the epoch
        ingestion_time INTEGER NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX log_events_by_group ON log_events (log_group, timestamp, position);
    CREATE INDEX log_events_by_stream
        ON log_events (log_group, log_stream, timestamp, position);

    CREATE TABLE queue_messages (
        position INTEGER PRIMARY KEY,   -- enqueue order, the tie-break for equal visible_at
        id TEXT NOT NULL UNIQUE,
        queue TEXT NOT NULL,
        payload BLOB NOT NULL,
        enqueued_at REAL NOT NULL,
        visible_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_token TEXT,               -- set by each claim; cleared by release
        dead_at REAL,                   -- set once dead-lettered
        error TEXT
    );
    CREATE INDEX queue_messages_live ON queue_messages (queue, visible_at, position)
        WHERE dead_at IS NULL;
    CREATE INDEX queue_messages_dead ON queue_messages (queue, position)
        WHERE dead_at IS NOT NULL;
    """,
    # 2: log events name their group and stream by number, not by text repeated in each row
    # and in both indexes (half the bytes per event). Numbers are never deleted, so they
    # never change meaning; positions, and the counter that hands them out, are kept.
    """
    CREATE TABLE log_group_ids (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE log_stream_ids (
        id INTEGER PRIMARY KEY,
        group_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        UNIQUE (group_id, name)
    );
    INSERT INTO log_group_ids (name) SELECT DISTINCT log_group FROM log_events;
    INSERT INTO log_stream_ids (group_id, name)
        SELECT DISTINCT g.id, e.log_stream
        FROM log_events e JOIN log_group_ids g ON g.name = e.log_group;

    CREATE TABLE log_events_numbered (
        position INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: page cursors stay valid
        group_id INTEGER NOT NULL,
        stream_id INTEGER NOT NULL,
        timestamp INTEGER NOT NULL,     -- milliseconds since the epoch
        ingestion_time INTEGER NOT NULL,
        message TEXT NOT NULL
    );
    INSERT INTO log_events_numbered
        (position, group_id, stream_id, timestamp, ingestion_time, message)
        SELECT e.position, g.id, s.id, e.timestamp, e.ingestion_time, e.message
        FROM log_events e
        JOIN log_group_ids g ON g.name = e.log_group
        JOIN log_stream_ids s ON s.group_id = g.id AND s.name = e.log_stream;
    DELETE FROM sqlite_sequence WHERE name = 'log_events_numbered';
    INSERT INTO sqlite_sequence (name, seq)
        SELECT 'log_events_numbered', seq FROM sqlite_sequence WHERE name = 'log_events';
    DROP TABLE log_events;
    ALTER TABLE log_events_numbered RENAME TO log_events;
    CREATE INDEX log_events_by_group ON log_events (group_id, timestamp, position);
    CREATE INDEX log_events_by_stream ON log_events (stream_id, timestamp, position);
    """,
)

_VERSION_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY,
        applied_at REAL NOT NULL
    )
"""


def migrate(connection: sqlite3.Connection, migrations: Sequence[str], now: float) -> int:
    """Apply what `migrations` has beyond the database's version; return the new version.

    `connection` is in autocommit mode (isolation_level=None) and outside a transaction.
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(_VERSION_TABLE)
        row = connection.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
        current = int(row[0])
        if current > len(migrations):
            raise StoreError(
                f"the database has schema version {current}; this Portico knows versions up "
                f"to {len(migrations)}: upgrade Portico or use another data directory"
            )
        for version in range(current + 1, len(migrations) + 1):
            for statement in split_statements(migrations[version - 1]):
                connection.execute(statement)
            connection.execute("INSERT INTO schema_version VALUES (?, ?)", (version, now))
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return len(migrations)


def split_statements(script: str) -> list[str]:
    """The statements of an SQL script, split where SQLite itself would end one.

    (`executescript` would do it, but commits first, which would take the migration out of
    its transaction.)
    """
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if _has_code(pending):
                statements.append(pending.strip())
            pending = ""
    # The loop added a ";" after the last piece: harmless if that piece held a statement.
    if _has_code(pending[:-1]):
        statements.append(pending[:-1].strip())
    return statements


def _has_code(sql: str) -> bool:
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return bool(code.strip(" \t\r\n;"))
