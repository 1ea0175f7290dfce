"""`DurableQueue` on the `queue_messages` table of a `SqliteDatabase`.

Each operation is its own write transaction, so `enqueue` is durable when it returns (with
`synchronous=FULL`, fsynced). A claim selects and leases in one transaction under the write
lock, so two workers never hold the same lease.
"""

from __future__ import annotations

import secrets
import sqlite3
import uuid
from collections.abc import Callable

from portico.store.queue import (
    DEFAULT_BACKOFF,
    Backoff,
    Claimed,
    DeadLetter,
    FailOutcome,
    QueueDepth,
)
from portico.store.sqlite.database import SqliteDatabase
from portico.store.sqlite.session import translate_errors

_TOKEN_LENGTH = 32  # hex characters; a receipt is the claim's token followed by the id


def _new_id() -> str:
    return str(uuid.uuid4())


class SqliteQueue:
    def __init__(self, database: SqliteDatabase, *, ids: Callable[[], str] = _new_id) -> None:
        self._database = database
        self._clock = database.clock
        self._ids = ids

    @translate_errors
    def enqueue(
        self,
        queue: str,
        payload: bytes,
        *,
        delay_seconds: float = 0.0,
        message_id: str | None = None,
    ) -> str:
        _check_seconds("delay_seconds", delay_seconds, allow_zero=True)
        if not isinstance(payload, bytes):
            raise ValueError(f"payload must be bytes, got {type(payload).__name__}")
        message_id = self._ids() if message_id is None else message_id
        now = self._clock.now()
        with self._database.writing() as session:
            session.connection.execute(
                "INSERT INTO queue_messages (id, queue, payload, enqueued_at, visible_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (message_id, queue, payload, now, now + delay_seconds),
            )
        return message_id

    @translate_errors
    def claim(self, queue: str, lease_seconds: float, limit: int = 1) -> list[Claimed]:
        _check_seconds("lease_seconds", lease_seconds, allow_zero=False)
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        now = self._clock.now()
        expires = now + lease_seconds
        with self._database.writing() as session:
            db = session.connection
            rows = db.execute(
                "SELECT position, id, payload, attempts, enqueued_at FROM queue_messages"
                " WHERE queue = ? AND dead_at IS NULL AND visible_at <= ?"
                " ORDER BY visible_at, position LIMIT ?",
                (queue, now, limit),
            ).fetchall()
            claimed: list[Claimed] = []
            for position, message_id, payload, attempts, enqueued_at in rows:
                token = secrets.token_hex(_TOKEN_LENGTH // 2)
                db.execute(
                    "UPDATE queue_messages SET attempts = attempts + 1, visible_at = ?,"
                    " lease_token = ? WHERE position = ?",
                    (expires, token, position),
                )
                claimed.append(
                    Claimed(
                        id=message_id,
                        queue=queue,
                        payload=payload,
                        attempts=attempts + 1,
                        enqueued_at=enqueued_at,
                        lease_expires_at=expires,
                        receipt=token + message_id,
                    )
                )
        return claimed

    @translate_errors
    def ack(self, receipt: str) -> bool:
        token, message_id = _parse(receipt)
        with self._database.writing() as session:
            cursor = session.connection.execute(
                "DELETE FROM queue_messages WHERE id = ? AND lease_token = ? AND dead_at IS NULL",
                (message_id, token),
            )
            return cursor.rowcount > 0

    @translate_errors
    def release(self, receipt: str, delay_seconds: float = 0.0) -> bool:
        _check_seconds("delay_seconds", delay_seconds, allow_zero=True)
        token, message_id = _parse(receipt)
        with self._database.writing() as session:
            return _reschedule(session.connection, message_id, token, self._after(delay_seconds))

    @translate_errors
    def extend(self, receipt: str, lease_seconds: float) -> bool:
        _check_seconds("lease_seconds", lease_seconds, allow_zero=False)
        token, message_id = _parse(receipt)
        with self._database.writing() as session:
            cursor = session.connection.execute(
                "UPDATE queue_messages SET visible_at = ?"
                " WHERE id = ? AND lease_token = ? AND dead_at IS NULL",
                (self._after(lease_seconds), message_id, token),
            )
            return cursor.rowcount > 0

    @translate_errors
    def fail(
        self, receipt: str, error: str, *, max_attempts: int, backoff: Backoff = DEFAULT_BACKOFF
    ) -> FailOutcome:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        token, message_id = _parse(receipt)
        with self._database.writing() as session:
            db = session.connection
            row = db.execute(
                "SELECT attempts FROM queue_messages"
                " WHERE id = ? AND lease_token = ? AND dead_at IS NULL",
                (message_id, token),
            ).fetchone()
            if row is None:
                return FailOutcome.STALE
            attempts = int(row[0])
            if attempts >= max_attempts:
                _bury(db, message_id, token, error, self._clock.now())
                return FailOutcome.DEAD
            _reschedule(db, message_id, token, self._after(backoff.delay(attempts)), error)
            return FailOutcome.RETRY

    @translate_errors
    def dead_letter(self, receipt: str, error: str) -> bool:
        token, message_id = _parse(receipt)
        with self._database.writing() as session:
            return _bury(session.connection, message_id, token, error, self._clock.now())

    @translate_errors
    def dead_letters(self, queue: str, *, limit: int = 100) -> list[DeadLetter]:
        with self._database.reading() as session:
            rows = session.connection.execute(
                "SELECT id, queue, payload, attempts, enqueued_at, dead_at, error"
                " FROM queue_messages WHERE queue = ? AND dead_at IS NOT NULL"
                " ORDER BY position LIMIT ?",
                (queue, limit),
            ).fetchall()
        return [DeadLetter(*row) for row in rows]

    @translate_errors
    def purge(self, queue: str) -> int:
        with self._database.writing() as session:
            sql = "DELETE FROM queue_messages WHERE queue = ?"
            return session.connection.execute(sql, (queue,)).rowcount

    @translate_errors
    def depth(self, queue: str) -> QueueDepth:
        with self._database.reading() as session:
            row = session.connection.execute(
                "SELECT"
                " COALESCE(SUM(dead_at IS NULL AND visible_at <= :now), 0),"
                " COALESCE(SUM(dead_at IS NULL AND visible_at > :now"
                "  AND lease_token IS NULL), 0),"
                " COALESCE(SUM(dead_at IS NULL AND visible_at > :now"
                "  AND lease_token IS NOT NULL), 0),"
                " COALESCE(SUM(dead_at IS NOT NULL), 0)"
                " FROM queue_messages WHERE queue = :queue",
                {"now": self._clock.now(), "queue": queue},
            ).fetchone()
        return QueueDepth(*(int(value) for value in row))

    @translate_errors
    def next_visible_at(self, queue: str) -> float | None:
        with self._database.reading() as session:
            row = session.connection.execute(
                "SELECT MIN(visible_at) FROM queue_messages WHERE queue = ? AND dead_at IS NULL",
                (queue,),
            ).fetchone()
        return None if row[0] is None else float(row[0])

    def _after(self, seconds: float) -> float:
        return self._clock.now() + seconds


def _reschedule(
    db: sqlite3.Connection,
    message_id: str,
    token: str,
    visible_at: float,
    error: str | None = None,
) -> bool:
    cursor = db.execute(
        "UPDATE queue_messages SET visible_at = ?, lease_token = NULL,"
        " error = COALESCE(?, error)"
        " WHERE id = ? AND lease_token = ? AND dead_at IS NULL",
        (visible_at, error, message_id, token),
    )
    return cursor.rowcount > 0


def _bury(db: sqlite3.Connection, message_id: str, token: str, error: str, now: float) -> bool:
    cursor = db.execute(
        "UPDATE queue_messages SET dead_at = ?, error = ?, lease_token = NULL"
        " WHERE id = ? AND lease_token = ? AND dead_at IS NULL",
        (now, error, message_id, token),
    )
    return cursor.rowcount > 0


def _parse(receipt: str) -> tuple[str, str]:
    token, message_id = receipt[:_TOKEN_LENGTH], receipt[_TOKEN_LENGTH:]
    if not message_id or len(token) != _TOKEN_LENGTH or not _is_hex(token):
        raise ValueError(f"receipt is not one that claim returned: {receipt!r}")
    return token, message_id


def _is_hex(text: str) -> bool:
    return all(char in "0123456789abcdef" for char in text)


def _check_seconds(field: str, value: float, *, allow_zero: bool) -> None:
    if not value >= 0 or (value == 0 and not allow_zero):  # `not >=` also refuses NaN
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{field} must be {bound}, got {value}")
